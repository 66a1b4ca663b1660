<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Integration;

use LeakGuard\Connector\Console\Command\PermissionsReportCommand;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Permissions\Reporter;
use LeakGuard\Connector\Model\Permissions\SnapshotBuilder;
use LeakGuard\Connector\Model\Transport\OutboundQueue;
use LeakGuard\Connector\Model\Transport\ServerClient;
use LeakGuard\Connector\Model\Transport\Signer;
use LeakGuard\Connector\Test\Support\ArrayConfig;
use LeakGuard\Connector\Test\Support\FakeEncryptor;
use LeakGuard\Connector\Test\Support\FakeHttpClient;
use LeakGuard\Connector\Test\Support\FixedClock;
use LeakGuard\Connector\Test\Support\MariaDbTestCase;
use Psr\Log\NullLogger;
use Symfony\Component\Console\Tester\CommandTester;

/**
 * Runs the permission snapshot's SQL (including the detection queries) on MariaDB with Magento's ACL tables.
 */
class PermissionSnapshotTest extends MariaDbTestCase
{
    private function config(): Config
    {
        $values = new ArrayConfig([
            Config::XML_BASE_URL => 'https://shop.example/',
            Config::XML_INTEGRATION_AS_BEARER => '1',
            Config::XML_SERVER_URL => 'https://leakguard.example',
            Config::XML_KEY_ID => 'key-1',
            Config::XML_SHARED_SECRET => (new FakeEncryptor())->encrypt('s'),
        ]);
        return new Config($values, new FakeEncryptor(), $values, $values);
    }

    private function seed(): void
    {
        $this->db->execute("INSERT INTO admin_user (user_id, email, username, password, is_active, logdate, lognum, failures_num, created)
            VALUES (1, 'owner@shop.example', 'owner', 'hash', 1, '2026-11-27 09:00:00', 210, 0, '2024-01-01 00:00:00'),
                   (2, 'dev@agency.example', 'agency', 'hash', 1, NULL, 0, 3, '2026-10-01 00:00:00'),
                   (3, 'cs@shop.example', 'support', 'hash', 0, '2026-01-01 00:00:00', 4, 0, '2025-01-01 00:00:00')");
        // Groups: 1 Administrators (all), 2 Support (customers + orders view); user links per admin.
        $this->db->execute("INSERT INTO authorization_role (role_id, parent_id, tree_level, role_type, user_id, user_type, role_name) VALUES
            (1, 0, 1, 'G', 0, '2', 'Administrators'), (2, 0, 1, 'G', 0, '2', 'Support'),
            (3, 1, 2, 'U', 1, '2', 'owner'), (4, 1, 2, 'U', 2, '2', 'agency'), (5, 2, 2, 'U', 3, '2', 'support'),
            (6, 0, 1, 'U', 7, '1', '17'), (7, 0, 1, 'U', 8, '1', '18')");
        $this->db->execute("INSERT INTO authorization_rule (role_id, resource_id, permission) VALUES
            (1, 'Magento_Backend::all', 'allow'),
            (2, 'Magento_Backend::admin', 'allow'), (2, 'Magento_Customer::manage', 'allow'), (2, 'Magento_Sales::actions_view', 'allow'),
            (2, 'Magento_Backend::all', 'deny'),
            (6, 'Magento_Backend::all', 'allow'),
            (7, 'Magento_Backend::admin', 'allow'), (7, 'Magento_Catalog::products', 'allow'), (7, 'Magento_Customer::manage', 'deny')");
        $this->db->execute("INSERT INTO integration (integration_id, name, email, endpoint, status, consumer_id, setup_type, created_at) VALUES
            (7, 'ERP sync', 'erp@vendor.example', 'https://erp.vendor.example/cb', 1, 70, 0, '2026-02-01 00:00:00'),
            (8, 'Catalog feed', 'feed@shop.example', NULL, 0, 80, 1, '2026-03-01 00:00:00')");
        $this->db->execute("INSERT INTO oauth_token (consumer_id, type, token, secret, callback_url, revoked, authorized, created_at)
            VALUES (70, 'access', 'tok70', 'sec70', '', 0, 1, '2026-02-01 00:05:00')");
    }

    public function test_the_snapshot_lists_integrations_admins_grants_and_findings(): void
    {
        $this->seed();
        $snapshot = (new SnapshotBuilder($this->db, $this->config(), new FixedClock()))->build();

        self::assertSame('leakguard.magento.permission_snapshot.v1', $snapshot['schema']);
        self::assertSame('https://shop.example', $snapshot['base_url']);
        self::assertTrue($snapshot['integration_bearer_enabled']);

        [$erp, $feed] = $snapshot['integrations'];
        self::assertSame(7, $erp['integration_id']);
        self::assertSame('active', $erp['status']);
        self::assertSame('vendor.example', $erp['email_domain']);
        self::assertTrue($erp['all_resources']);
        self::assertSame(['Magento_Backend::all'], $erp['pii_resources']);
        self::assertTrue($erp['has_active_access_token']);
        self::assertSame([['type' => 'access', 'revoked' => false, 'authorized' => true, 'created_at' => '2026-02-01T00:05:00Z']], $erp['tokens']);
        self::assertSame('inactive', $feed['status']);
        self::assertSame('config', $feed['setup_type']);
        self::assertFalse($feed['all_resources']);
        self::assertSame(['Magento_Backend::admin', 'Magento_Catalog::products'], $feed['resources']);
        self::assertSame([], $feed['pii_resources']);
        self::assertFalse($feed['has_active_access_token']);

        $admins = array_column($snapshot['admin_users'], null, 'username');
        self::assertSame('Administrators', $admins['agency']['role_name']);
        self::assertTrue($admins['agency']['all_resources']);
        self::assertNull($admins['agency']['last_login_at']);
        self::assertSame(3, $admins['agency']['failures_num']);
        self::assertSame('agency.example', $admins['agency']['email_domain']);
        self::assertSame('2026-11-27T09:00:00Z', $admins['owner']['last_login_at']);
        self::assertSame(210, $admins['owner']['login_count']);
        self::assertFalse($admins['support']['is_active']);
        self::assertFalse($admins['support']['all_resources']);
        self::assertSame(['Magento_Customer::manage', 'Magento_Sales::actions_view'], $admins['support']['pii_resources']);
        self::assertStringNotContainsString('@', json_encode($snapshot['admin_users']));

        self::assertSame([7], $snapshot['findings']['integrations_with_all_resources']);
        self::assertSame([1, 2], $snapshot['findings']['admins_with_all_resources']);
        self::assertSame(
            [[1, 'Magento_Backend::all'], [2, 'Magento_Customer::manage'], [2, 'Magento_Sales::actions_view'], [6, 'Magento_Backend::all']],
            array_map(fn ($r) => [$r['role_id'], $r['resource_id']], $snapshot['findings']['roles_with_pii_resources'])
        );
    }

    public function test_the_command_sends_the_snapshot_and_reports_the_counts(): void
    {
        $this->seed();
        $config = $this->config();
        $clock = new FixedClock();
        $http = new FakeHttpClient();
        $client = new ServerClient($config, new Signer($clock), $http, new OutboundQueue($this->db), $clock, new NullLogger());
        $tester = new CommandTester(new PermissionsReportCommand(new Reporter(new SnapshotBuilder($this->db, $config, $clock), $client)));

        self::assertSame(0, $tester->execute([]));
        self::assertStringContainsString('2 integrations (1 with all resources), 3 admin users (2 with all resources); sent.', $tester->getDisplay());
        self::assertSame('https://leakguard.example/api/v1/magento/permission-snapshots', $http->requests[0]['url']);
        self::assertSame('ERP sync', json_decode($http->requests[0]['body'], true)['integrations'][0]['name']);

        $http->down();
        self::assertSame(0, $tester->execute([]));
        self::assertStringContainsString('queued for retry', $tester->getDisplay());
        self::assertSame(1, (new OutboundQueue($this->db))->size());
    }
}
