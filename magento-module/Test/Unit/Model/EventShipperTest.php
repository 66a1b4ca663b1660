<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Model;

use LeakGuard\Connector\Cron\FlushQueue;
use LeakGuard\Connector\Cron\ShipEvents;
use LeakGuard\Connector\Model\EventShipper;
use LeakGuard\Connector\Model\WebApi\CallLogger;
use LeakGuard\Connector\Test\Support\FakeHttpClient;
use LeakGuard\Connector\Test\Support\TestKit;
use PHPUnit\Framework\TestCase;

class EventShipperTest extends TestCase
{
    private function seed(TestKit $kit): void
    {
        $recorder = $kit->recorder();
        $recorder->record('record_view', ['entity_type' => 'customer', 'entity_ids' => [42], 'details' => ['k' => 'v']]);
        $recorder->record('logout');
        (new CallLogger($kit->config, $kit->db, $kit->jsonl(), $kit->logger))->log([
            'ts' => '2026-11-28T08:21:30Z', 'event' => 'webapi_call', 'caller_type' => 'integration', 'caller_id' => 5,
            'method' => 'GET', 'route' => '/V1/orders', 'service_class' => 'Magento\Sales\Api\OrderRepositoryInterface',
            'service_method' => 'getList', 'acl_resources' => ['Magento_Sales::actions_view'], 'page_size' => 500,
            'result_count' => 500, 'status' => 200, 'duration_ms' => 31, 'ip' => '198.51.100.9', 'request_id' => 'r-9',
        ]);
    }

    public function test_unshipped_rows_are_sent_once_as_one_signed_events_batch(): void
    {
        $kit = new TestKit();
        $kit->enroll();
        $this->seed($kit);
        $http = new FakeHttpClient();
        $shipper = new EventShipper($kit->db, $kit->serverClient($http));

        self::assertSame(3, $shipper->ship());
        self::assertSame(0, $shipper->ship());
        self::assertCount(1, $http->requests);
        self::assertSame('https://leakguard.example/api/v1/magento/events', $http->requests[0]['url']);
        $events = json_decode($http->requests[0]['body'], true)['events'];
        self::assertSame(['admin_action', 'admin_action', 'webapi_call'], array_column($events, 'source'));
        self::assertSame([
            'source' => 'admin_action', 'source_id' => 1, 'ts' => '2026-11-28T08:21:12Z', 'admin_user_id' => 12,
            'admin_username' => 'jdoe', 'ip' => '203.0.113.7', 'forwarded_ip' => '198.51.100.4, 10.0.0.1',
            'action' => 'customer_index_index', 'event' => 'record_view', 'entity_type' => 'customer',
            'entity_ids' => [42], 'count' => 1, 'result' => 'success', 'request_id' => 'req-0123456789',
            'details' => ['k' => 'v'],
        ], $events[0]);
        self::assertSame('getList', $events[2]['service_method']);
        self::assertSame(500, $events[2]['result_count']);
        self::assertSame(['Magento_Sales::actions_view'], $events[2]['acl_resources']);
    }

    public function test_while_the_server_is_down_events_move_to_the_queue_and_are_flushed_later(): void
    {
        $kit = new TestKit();
        $kit->enroll();
        $this->seed($kit);
        $http = (new FakeHttpClient())->down();
        $client = $kit->serverClient($http);
        (new ShipEvents($kit->config, new EventShipper($kit->db, $client)))->execute();
        self::assertSame(0, (int) $kit->db->fetchOne('SELECT COUNT(*) FROM leakguard_admin_action_log WHERE shipped = 0'));
        self::assertSame(1, (int) $kit->db->fetchOne('SELECT COUNT(*) FROM leakguard_outbound_queue'));
        (new FlushQueue($kit->config, $client))->execute();
        self::assertSame(0, (int) $kit->db->fetchOne('SELECT COUNT(*) FROM leakguard_outbound_queue'));
        self::assertSame($http->requests[0]['body'], $http->requests[1]['body']);
    }

    public function test_cron_does_nothing_before_enrollment(): void
    {
        $kit = new TestKit();
        $this->seed($kit);
        $http = new FakeHttpClient();
        (new ShipEvents($kit->config, new EventShipper($kit->db, $kit->serverClient($http))))->execute();
        self::assertSame([], $http->requests);
        self::assertSame(2, (int) $kit->db->fetchOne('SELECT COUNT(*) FROM leakguard_admin_action_log WHERE shipped = 0'));
    }
}
