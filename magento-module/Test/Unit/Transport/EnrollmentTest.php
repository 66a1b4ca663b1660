<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Transport;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Transport\Enrollment;
use LeakGuard\Connector\Model\Transport\MagentoCurlHttpClient;
use LeakGuard\Connector\Model\Transport\TransportException;
use LeakGuard\Connector\Test\Support\FakeHttpClient;
use LeakGuard\Connector\Test\Support\TestKit;
use Magento\Framework\HTTP\Client\CurlFactory;
use PHPUnit\Framework\TestCase;

class EnrollmentTest extends TestCase
{
    public function test_the_token_is_exchanged_and_the_secret_stored_encrypted(): void
    {
        $kit = new TestKit([Config::XML_SERVER_URL => 'https://leakguard.example/']);
        $http = (new FakeHttpClient())->answer(200, '{"tenant_id":"0190a0b0-0000-7000-8000-000000000001","key_id":"k-77","secret":"per-tenant-secret"}');
        $result = (new Enrollment($kit->config, $http))->enroll('tok-abc');

        self::assertSame(['tenant_id' => '0190a0b0-0000-7000-8000-000000000001', 'key_id' => 'k-77'], $result);
        self::assertSame('https://leakguard.example/api/v1/magento/enroll', $http->requests[0]['url']);
        self::assertSame('POST', $http->requests[0]['method']);
        self::assertSame(
            ['enrollment_token' => 'tok-abc', 'base_url' => 'https://shop.example', 'module_version' => '1.0.0'],
            json_decode($http->requests[0]['body'], true)
        );
        self::assertArrayNotHasKey('X-LeakGuard-Signature', $http->requests[0]['headers']);
        self::assertSame('k-77', $kit->configValues->values[Config::XML_KEY_ID]);
        self::assertSame('0:3:' . base64_encode('per-tenant-secret'), $kit->configValues->values[Config::XML_SHARED_SECRET]);
        self::assertSame('per-tenant-secret', $kit->config->getSharedSecret());
        self::assertSame(1, $kit->configValues->reinits);
        self::assertTrue($kit->config->isEnrolled());
    }

    public function test_a_plain_http_server_is_refused_except_on_loopback(): void
    {
        $kit = new TestKit([Config::XML_SERVER_URL => 'http://leakguard.example']);
        try {
            (new Enrollment($kit->config, new FakeHttpClient()))->enroll('t');
            self::fail('must refuse');
        } catch (TransportException $e) {
            self::assertSame('the LeakGuard server URL must use https', $e->getMessage());
        }
        $local = new TestKit([Config::XML_SERVER_URL => 'http://127.0.0.1:8080']);
        $http = (new FakeHttpClient())->answer(200, '{"tenant_id":"t","key_id":"k","secret":"s"}');
        self::assertSame('k', (new Enrollment($local->config, $http))->enroll('t')['key_id']);
    }

    public function test_an_incomplete_answer_is_rejected_and_nothing_is_stored(): void
    {
        $kit = new TestKit([Config::XML_SERVER_URL => 'https://leakguard.example']);
        $http = (new FakeHttpClient())->answer(200, '{"tenant_id":"t","key_id":"k"}');
        $this->expectExceptionMessage('enrollment answer lacks secret');
        try {
            (new Enrollment($kit->config, $http))->enroll('t');
        } finally {
            self::assertFalse($kit->config->isEnrolled());
        }
    }

    public function test_without_a_token_nothing_is_sent(): void
    {
        $kit = new TestKit([Config::XML_SERVER_URL => 'https://leakguard.example']);
        $http = new FakeHttpClient();
        $this->expectExceptionMessage('no enrollment token is configured');
        try {
            (new Enrollment($kit->config, $http))->enroll();
        } finally {
            self::assertSame([], $http->requests);
        }
    }

    public function test_the_magento_curl_client_passes_method_headers_and_body(): void
    {
        $factory = new CurlFactory();
        $client = new MagentoCurlHttpClient($factory);
        $factory->create()->responses = [[201, '{"ok":true}'], new \Exception('Could not resolve host')];
        $response = $client->request('POST', 'https://leakguard.example/api/v1/magento/events', ['X-A' => '1'], '{"events":[]}');
        self::assertSame(201, $response->status);
        self::assertSame('{"ok":true}', $response->body);
        self::assertSame(['method' => 'POST', 'uri' => 'https://leakguard.example/api/v1/magento/events', 'headers' => ['X-A' => '1'], 'body' => '{"events":[]}'], $factory->create()->sent[0]);
        $this->expectException(TransportException::class);
        $this->expectExceptionMessage('LeakGuard server unreachable for GET /api/v1/magento/retention-policy');
        $client->request('GET', 'https://leakguard.example/api/v1/magento/retention-policy', [], '');
    }
}
