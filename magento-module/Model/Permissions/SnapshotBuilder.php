<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Permissions;

use LeakGuard\Connector\Model\Clock;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Db\ConnectionInterface;

/**
 * Builds the permission snapshot (README "Permission snapshot"): integrations with their grants and tokens,
 * admin users with their role and grants, and the findings of the read-only detection queries.
 * Admin emails are reduced to their domain (enough to spot third-party accounts).
 */
class SnapshotBuilder
{
    public const ALL = 'Magento_Backend::all';
    /** ACL resources that expose customer personal data. */
    public const PII_RESOURCES = [
        'Magento_Backend::all', 'Magento_Customer::customer', 'Magento_Customer::manage',
        'Magento_Sales::actions_view', 'Magento_Sales::sales_order',
    ];
    private const INTEGRATION_STATUS = [0 => 'inactive', 1 => 'active', 2 => 'recreated'];

    public function __construct(
        private readonly ConnectionInterface $db,
        private readonly Config $config,
        private readonly Clock $clock
    ) {
    }

    /** @return array<string, mixed> */
    public function build(): array
    {
        $integrations = $this->integrations();
        $admins = $this->adminUsers();
        return [
            'schema' => 'leakguard.magento.permission_snapshot.v1',
            'generated_at' => $this->clock->now()->format('Y-m-d\TH:i:s\Z'),
            'module_version' => Config::MODULE_VERSION,
            'base_url' => $this->config->getBaseUrl(),
            'integration_bearer_enabled' => $this->config->isIntegrationBearerEnabled(),
            'integrations' => $integrations,
            'admin_users' => $admins,
            'findings' => $this->findings(),
        ];
    }

    /** @return list<array<string, mixed>> */
    private function integrations(): array
    {
        $grants = [];
        foreach ($this->db->fetchAll(
            'SELECT r.user_id, ru.resource_id FROM ' . $this->t('authorization_role') . ' r'
            . ' JOIN ' . $this->t('authorization_rule') . " ru ON ru.role_id = r.role_id"
            . " WHERE r.role_type = 'U' AND r.user_type = '1' AND ru.permission = 'allow' ORDER BY ru.resource_id"
        ) as $row) {
            $grants[(int) $row['user_id']][] = (string) $row['resource_id'];
        }
        $tokens = [];
        foreach ($this->db->fetchAll(
            'SELECT consumer_id, type, revoked, authorized, created_at FROM ' . $this->t('oauth_token')
            . ' WHERE consumer_id IS NOT NULL ORDER BY entity_id'
        ) as $row) {
            $tokens[(int) $row['consumer_id']][] = [
                'type' => (string) $row['type'],
                'revoked' => (bool) $row['revoked'],
                'authorized' => (bool) $row['authorized'],
                'created_at' => $this->time($row['created_at']),
            ];
        }
        $out = [];
        foreach ($this->db->fetchAll(
            'SELECT integration_id, name, email, endpoint, status, consumer_id, setup_type, created_at, updated_at'
            . ' FROM ' . $this->t('integration') . ' ORDER BY integration_id'
        ) as $row) {
            $id = (int) $row['integration_id'];
            $resources = $grants[$id] ?? [];
            $consumerTokens = $row['consumer_id'] === null ? [] : ($tokens[(int) $row['consumer_id']] ?? []);
            $out[] = [
                'integration_id' => $id,
                'name' => (string) $row['name'],
                'email_domain' => $this->domain($row['email']),
                'endpoint' => $row['endpoint'] === null || $row['endpoint'] === '' ? null : (string) $row['endpoint'],
                'status' => self::INTEGRATION_STATUS[(int) $row['status']] ?? 'unknown',
                'setup_type' => (int) $row['setup_type'] === 1 ? 'config' : 'manual',
                'created_at' => $this->time($row['created_at']),
                'updated_at' => $this->time($row['updated_at']),
                'all_resources' => in_array(self::ALL, $resources, true),
                'resources' => $resources,
                'pii_resources' => array_values(array_intersect($resources, self::PII_RESOURCES)),
                'tokens' => $consumerTokens,
                'has_active_access_token' => array_filter(
                    $consumerTokens,
                    static fn (array $t): bool => $t['type'] === 'access' && !$t['revoked']
                ) !== [],
            ];
        }
        return $out;
    }

    /** @return list<array<string, mixed>> */
    private function adminUsers(): array
    {
        $grants = [];
        foreach ($this->db->fetchAll(
            'SELECT ru.role_id, ru.resource_id FROM ' . $this->t('authorization_rule') . ' ru'
            . ' JOIN ' . $this->t('authorization_role') . " g ON g.role_id = ru.role_id AND g.role_type = 'G'"
            . " WHERE ru.permission = 'allow' ORDER BY ru.resource_id"
        ) as $row) {
            $grants[(int) $row['role_id']][] = (string) $row['resource_id'];
        }
        $out = [];
        foreach ($this->db->fetchAll(
            'SELECT u.user_id, u.username, u.email, u.is_active, u.created, u.logdate, u.lognum, u.failures_num,'
            . ' u.first_failure, u.lock_expires, g.role_id, g.role_name FROM ' . $this->t('admin_user') . ' u'
            . ' LEFT JOIN ' . $this->t('authorization_role') . " ur ON ur.role_type = 'U' AND ur.user_type = '2' AND ur.user_id = u.user_id"
            . ' LEFT JOIN ' . $this->t('authorization_role') . " g ON g.role_id = ur.parent_id AND g.role_type = 'G'"
            . ' ORDER BY u.user_id'
        ) as $row) {
            $resources = $row['role_id'] === null ? [] : ($grants[(int) $row['role_id']] ?? []);
            $out[] = [
                'user_id' => (int) $row['user_id'],
                'username' => (string) $row['username'],
                'email_domain' => $this->domain($row['email']),
                'is_active' => (bool) $row['is_active'],
                'created_at' => $this->time($row['created']),
                'last_login_at' => $this->time($row['logdate']),
                'login_count' => (int) $row['lognum'],
                'failures_num' => (int) $row['failures_num'],
                'first_failure_at' => $this->time($row['first_failure']),
                'locked_until' => $this->time($row['lock_expires']),
                'role_id' => $row['role_id'] === null ? null : (int) $row['role_id'],
                'role_name' => $row['role_name'] === null ? null : (string) $row['role_name'],
                'all_resources' => in_array(self::ALL, $resources, true),
                'resources' => $resources,
                'pii_resources' => array_values(array_intersect($resources, self::PII_RESOURCES)),
            ];
        }
        return $out;
    }

    /**
     * The detection queries, verbatim in substance, so the server can show exactly what matched.
     *
     * @return array<string, mixed>
     */
    private function findings(): array
    {
        $fullAccessIntegrations = $this->db->fetchAll(
            'SELECT i.integration_id, i.name, i.status, i.endpoint, i.created_at FROM ' . $this->t('integration') . ' i'
            . ' JOIN ' . $this->t('authorization_role') . " r ON r.role_type='U' AND r.user_type='1' AND r.user_id=i.integration_id"
            . ' JOIN ' . $this->t('authorization_rule') . ' ru ON ru.role_id=r.role_id'
            . " WHERE ru.resource_id='Magento_Backend::all' AND ru.permission='allow' ORDER BY i.integration_id"
        );
        $placeholders = implode(',', array_fill(0, count(self::PII_RESOURCES), '?'));
        $piiRoles = $this->db->fetchAll(
            'SELECT r.role_id, r.role_type, r.user_type, r.user_id, r.role_name, ru.resource_id FROM '
            . $this->t('authorization_role') . ' r JOIN ' . $this->t('authorization_rule') . ' ru ON ru.role_id=r.role_id'
            . " WHERE ru.permission='allow' AND ru.resource_id IN (" . $placeholders . ') ORDER BY r.role_id, ru.resource_id',
            self::PII_RESOURCES
        );
        $allAccessAdmins = $this->db->fetchAll(
            'SELECT u.user_id, u.username, u.is_active, u.logdate, g.role_name FROM ' . $this->t('admin_user') . ' u'
            . ' JOIN ' . $this->t('authorization_role') . " ur ON ur.role_type='U' AND ur.user_id=u.user_id AND ur.user_type='2'"
            . ' JOIN ' . $this->t('authorization_role') . " g ON g.role_id=ur.parent_id AND g.role_type='G'"
            . ' JOIN ' . $this->t('authorization_rule') . " ru ON ru.role_id=g.role_id AND ru.resource_id='Magento_Backend::all' AND ru.permission='allow'"
            . ' ORDER BY u.user_id'
        );
        return [
            'integrations_with_all_resources' => array_map('intval', array_column($fullAccessIntegrations, 'integration_id')),
            'admins_with_all_resources' => array_map('intval', array_column($allAccessAdmins, 'user_id')),
            'roles_with_pii_resources' => array_map(static fn (array $r): array => [
                'role_id' => (int) $r['role_id'],
                'role_type' => (string) $r['role_type'],
                'user_type' => $r['user_type'] === null ? null : (string) $r['user_type'],
                'user_id' => $r['user_id'] === null ? null : (int) $r['user_id'],
                'role_name' => (string) $r['role_name'],
                'resource_id' => (string) $r['resource_id'],
            ], $piiRoles),
        ];
    }

    private function t(string $table): string
    {
        return $this->db->table($table);
    }

    private function domain(mixed $email): ?string
    {
        if (!is_string($email) || !str_contains($email, '@')) {
            return null;
        }
        return strtolower(substr($email, strrpos($email, '@') + 1));
    }

    private function time(mixed $value): ?string
    {
        if (!is_string($value) || $value === '' || str_starts_with($value, '0000')) {
            return null;
        }
        return (new \DateTimeImmutable($value, new \DateTimeZone('UTC')))->format('Y-m-d\TH:i:s\Z');
    }
}
