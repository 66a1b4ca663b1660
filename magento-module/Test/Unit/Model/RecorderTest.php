<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Model;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Test\Support\TestKit;
use PHPUnit\Framework\TestCase;

class RecorderTest extends TestCase
{
    public function test_an_entry_is_written_to_the_table_and_the_jsonl_file_with_flat_fields(): void
    {
        $kit = new TestKit();
        $kit->recorder()->record('grid_export', [
            'action' => 'mui_export_gridToCsv',
            'entity_type' => 'customer',
            'entity_ids' => ['3', 5],
            'details' => ['namespace' => 'customer_listing', 'password' => 'x'],
        ]);

        $lines = $kit->jsonlLines();
        self::assertCount(1, $lines);
        self::assertSame([
            'ts' => '2026-11-28T08:21:12Z',
            'admin_user_id' => 12,
            'admin_username' => 'jdoe',
            'ip' => '203.0.113.7',
            'forwarded_ip' => '198.51.100.4, 10.0.0.1',
            'action' => 'mui_export_gridToCsv',
            'event' => 'grid_export',
            'entity_type' => 'customer',
            'entity_ids' => [3, 5],
            'count' => 2,
            'result' => 'success',
            'request_id' => 'req-0123456789',
            'details' => ['namespace' => 'customer_listing', 'password' => '[redacted]'],
        ], $lines[0]);

        $rows = $kit->adminRows();
        self::assertCount(1, $rows);
        self::assertSame('2026-11-28 08:21:12', $rows[0]['occurred_at']);
        self::assertSame('grid_export', $rows[0]['event']);
        self::assertSame('[3,5]', $rows[0]['entity_ids']);
        self::assertSame(2, (int) $rows[0]['entity_count']);
        self::assertSame('0', (string) $rows[0]['shipped']);
        self::assertStringNotContainsString('"x"', (string) $rows[0]['details']);
    }

    public function test_nothing_is_written_when_the_admin_action_log_is_off(): void
    {
        $kit = new TestKit([Config::XML_CAPTURE_ADMIN_ACTIONS => '0']);
        self::assertNull($kit->recorder()->record('record_view'));
        self::assertSame([], $kit->adminRows());
        self::assertSame([], $kit->jsonlLines());
    }

    public function test_the_jsonl_file_can_be_turned_off_while_the_table_keeps_recording(): void
    {
        $kit = new TestKit([Config::XML_CAPTURE_JSONL => '0']);
        $kit->recorder()->record('record_view');
        self::assertCount(1, $kit->adminRows());
        self::assertSame([], $kit->jsonlLines());
    }

    public function test_a_storage_failure_is_logged_without_details_and_does_not_propagate(): void
    {
        $kit = new TestKit();
        $kit->db->execute('DROP TABLE leakguard_admin_action_log');
        $result = $kit->recorder()->record('admin_login_failure', ['details' => ['user_name' => 'victim@example.com']]);
        self::assertNull($result);
        self::assertCount(1, $kit->logged);
        self::assertSame('warning', $kit->logged[0][0]);
        self::assertStringNotContainsString('victim', json_encode($kit->logged));
    }

    public function test_outside_the_admin_area_the_session_is_not_read(): void
    {
        $kit = new TestKit();
        $entry = $kit->recorder(null, 'crontab')->record('admin_user_change');
        self::assertNull($entry['admin_user_id']);
        self::assertNull($entry['admin_username']);
    }

    public function test_a_generated_request_id_is_used_when_the_incoming_one_is_unsafe(): void
    {
        $kit = new TestKit();
        $request = new \Magento\Framework\App\Request\Http('sales_order_view', [], ['X-Request-Id' => "bad id\n<script>"]);
        $entry = $kit->recorder($kit->requestContext($request))->record('record_view');
        self::assertMatchesRegularExpression('/^[0-9a-f]{32}$/', $entry['request_id']);
        self::assertSame('sales_order_view', $entry['action']);
    }

    public function test_without_an_area_code_the_session_is_not_read(): void
    {
        $state = new class extends \Magento\Framework\App\State {
            public function getAreaCode()
            {
                throw new \RuntimeException('Area code is not set');
            }
        };
        $kit = new TestKit();
        self::assertNull((new \LeakGuard\Connector\Model\CurrentAdmin($state, $kit->session))->get());
        self::assertSame(['id' => 12, 'username' => 'jdoe'], $kit->currentAdmin()->get());
    }
}
