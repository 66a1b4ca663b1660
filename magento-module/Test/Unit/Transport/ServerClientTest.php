<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Transport;

use LeakGuard\Connector\Model\Transport\OutboundQueue;
use LeakGuard\Connector\Model\Transport\ServerClient;
use LeakGuard\Connector\Model\Transport\Signer;
use LeakGuard\Connector\Model\Transport\TransportException;
use LeakGuard\Connector\Test\Support\FakeHttpClient;
use LeakGuard\Connector\Test\Support\TestKit;
use PHPUnit\Framework\TestCase;

class ServerClientTest extends TestCase
{
    public function test_a_request_carries_verifiable_signature_headers(): void
    {
        $kit = new TestKit();
        $kit->enroll('tenant-secret');
        $http = new FakeHttpClient();
        $kit->serverClient($http)->send('POST', ServerClient::PATH_EVENTS, '{"events":[]}');

        $sent = $http->requests[0];
        self::assertSame('https://leakguard.example/api/v1/magento/events', $sent['url']);
        self::assertSame('key-1', $sent['headers']['X-LeakGuard-Key-Id']);
        self::assertSame((string) $kit->clock->unix(), $sent['headers']['X-LeakGuard-Timestamp']);
        $expected = (new Signer($kit->clock))->signature(
            'tenant-secret', 'POST', '/api/v1/magento/events', $sent['headers']['X-LeakGuard-Timestamp'],
            $sent['headers']['X-LeakGuard-Nonce'], '{"events":[]}'
        );
        self::assertSame($expected, $sent['headers']['X-LeakGuard-Signature']);
        self::assertSame('application/json', $sent['headers']['Content-Type']);
    }

    public function test_an_error_status_raises_without_leaking_the_body(): void
    {
        $kit = new TestKit();
        $kit->enroll();
        $http = (new FakeHttpClient())->answer(400, '{"code":"bad","secret":"x"}');
        try {
            $kit->serverClient($http)->send('POST', ServerClient::PATH_EVENTS, '{}');
            self::fail('must raise');
        } catch (TransportException $e) {
            self::assertSame('LeakGuard server answered 400 to POST /api/v1/magento/events', $e->getMessage());
            self::assertFalse($e->isRetryable());
        }
    }

    public function test_a_message_is_queued_while_the_server_is_down_and_sent_by_a_later_flush(): void
    {
        $kit = new TestKit();
        $kit->enroll();
        $http = (new FakeHttpClient())->down(2);
        $client = $kit->serverClient($http);
        $queue = new OutboundQueue($kit->db);

        self::assertFalse($client->deliver(ServerClient::PATH_EVENTS, ['events' => [['event' => 'logout']]]));
        self::assertSame(1, $queue->size());

        // Not due yet: nothing is attempted.
        self::assertSame(['sent' => 0, 'retried' => 1, 'dropped' => 0], $client->flush());
        self::assertSame(2, count($http->requests));
        self::assertSame(['sent' => 0, 'retried' => 0, 'dropped' => 0], $client->flush());
        self::assertSame(2, count($http->requests));

        $kit->clock->advance(61);
        self::assertSame(['sent' => 1, 'retried' => 0, 'dropped' => 0], $client->flush());
        self::assertSame(0, $queue->size());
        $last = end($http->requests);
        self::assertSame('{"events":[{"event":"logout"}]}', $last['body']);
        // Re-signed at send time with a new nonce and the current clock.
        self::assertNotSame($http->requests[1]['headers']['X-LeakGuard-Nonce'], $last['headers']['X-LeakGuard-Nonce']);
        self::assertSame((string) $kit->clock->unix(), $last['headers']['X-LeakGuard-Timestamp']);
    }

    public function test_backoff_doubles_from_one_minute_up_to_one_hour(): void
    {
        $client = (new TestKit())->serverClient(new FakeHttpClient());
        self::assertSame([60, 120, 240, 480, 960, 1920, 3600, 3600], array_map([$client, 'backoffSeconds'], range(1, 8)));
    }

    public function test_a_retryable_failure_reschedules_and_records_the_status(): void
    {
        $kit = new TestKit();
        $kit->enroll();
        $http = (new FakeHttpClient())->answer(503)->answer(503);
        $client = $kit->serverClient($http);
        $client->deliver(ServerClient::PATH_PERMISSION_SNAPSHOTS, ['x' => 1]);
        $client->flush();
        $row = $kit->db->fetchAll('SELECT * FROM leakguard_outbound_queue')[0];
        self::assertSame(1, (int) $row['attempts']);
        self::assertSame(503, (int) $row['last_status']);
        self::assertSame('2026-11-28 08:22:12', $row['next_attempt_at']);
    }

    public function test_a_message_is_dropped_after_a_permanent_rejection_or_too_many_attempts(): void
    {
        $kit = new TestKit();
        $kit->enroll();
        $queue = new OutboundQueue($kit->db);
        $queue->enqueue('POST', ServerClient::PATH_EVENTS, '{}', $kit->clock->now());
        $id = $queue->enqueue('POST', ServerClient::PATH_EVENTS, '{}', $kit->clock->now());
        $queue->reschedule($id, ServerClient::MAX_ATTEMPTS - 1, $kit->clock->now(), 503, 'x');
        $http = (new FakeHttpClient())->answer(422)->answer(503);
        self::assertSame(['sent' => 0, 'retried' => 0, 'dropped' => 2], $kit->serverClient($http)->flush());
        self::assertSame(0, $queue->size());
        self::assertSame('warning', $kit->logged[0][0]);
    }

    public function test_a_permanent_rejection_on_delivery_is_raised_not_queued(): void
    {
        $kit = new TestKit();
        $kit->enroll();
        $this->expectException(TransportException::class);
        try {
            $kit->serverClient((new FakeHttpClient())->answer(422))->deliver(ServerClient::PATH_EVENTS, ['events' => []]);
        } finally {
            self::assertSame(0, (new OutboundQueue($kit->db))->size());
        }
    }

    public function test_before_enrollment_messages_wait_in_the_queue(): void
    {
        $kit = new TestKit();
        $http = new FakeHttpClient();
        self::assertFalse($kit->serverClient($http)->deliver(ServerClient::PATH_EVENTS, ['events' => []]));
        self::assertSame([], $http->requests);
        self::assertSame(1, (new OutboundQueue($kit->db))->size());
    }

    public function test_signed_requests_are_never_sent_over_plain_http(): void
    {
        $kit = new TestKit();
        $kit->enroll();
        $kit->configValues->values['leakguard/connection/server_url'] = 'http://leakguard.example';
        $http = new FakeHttpClient();
        $this->expectExceptionMessage('must use https');
        try {
            $kit->serverClient($http)->send('GET', ServerClient::PATH_RETENTION_POLICY);
        } finally {
            self::assertSame([], $http->requests);
        }
    }
}
