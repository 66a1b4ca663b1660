<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Transport;

use LeakGuard\Connector\Model\Clock;
use LeakGuard\Connector\Model\Config;
use Psr\Log\LoggerInterface;

/**
 * Signed calls to the LeakGuard server, with a durable retry queue for the POSTs that report data.
 *
 * send(): one signed request, errors raised. deliver(): send, or queue when the server is unreachable or
 * answers with a retryable status; flush() retries queued messages with exponential backoff
 * (1 min doubling to 1 h) and gives up after MAX_ATTEMPTS, logging the endpoint only.
 */
class ServerClient
{
    public const PATH_ENROLL = '/api/v1/magento/enroll';
    public const PATH_EVENTS = '/api/v1/magento/events';
    public const PATH_PERMISSION_SNAPSHOTS = '/api/v1/magento/permission-snapshots';
    public const PATH_RETENTION_POLICY = '/api/v1/magento/retention-policy';
    public const PATH_RETENTION_REPORTS = '/api/v1/magento/retention-reports';
    public const MAX_ATTEMPTS = 48;
    private const BASE_BACKOFF_SECONDS = 60;
    private const MAX_BACKOFF_SECONDS = 3600;

    private Config $config;
    private Signer $signer;
    private HttpClientInterface $httpClient;
    private OutboundQueue $queue;
    private Clock $clock;
    private LoggerInterface $logger;

    public function __construct(
        Config $config,
        Signer $signer,
        HttpClientInterface $httpClient,
        OutboundQueue $queue,
        Clock $clock,
        LoggerInterface $logger
    ) {
        $this->config = $config;
        $this->signer = $signer;
        $this->httpClient = $httpClient;
        $this->queue = $queue;
        $this->clock = $clock;
        $this->logger = $logger;
    }

    /**
     * @throws TransportException when not enrolled, unreachable, or the server answers non-2xx
     */
    public function send(string $method, string $pathAndQuery, string $body = ''): HttpResponse
    {
        if (!$this->config->isEnrolled()) {
            throw new TransportException('this shop is not enrolled with LeakGuard (run bin/magento leakguard:enroll)', false);
        }
        $serverUrl = $this->config->getServerUrl();
        $host = (string) parse_url($serverUrl, PHP_URL_HOST);
        if (!str_starts_with($serverUrl, 'https://') && !in_array($host, ['localhost', '127.0.0.1', '[::1]'], true)) {
            throw new TransportException('the LeakGuard server URL must use https', false);
        }
        $method = strtoupper($method);
        $headers = $this->signer->headers($this->config->getKeyId(), $this->config->getSharedSecret(), $method, $pathAndQuery, $body)
            + ['Content-Type' => 'application/json', 'Accept' => 'application/json'];
        $response = $this->httpClient->request($method, $serverUrl . $pathAndQuery, $headers, $body);
        if (!$response->isSuccess()) {
            throw new TransportException(
                'LeakGuard server answered ' . $response->status . ' to ' . $method . ' ' . strtok($pathAndQuery, '?'),
                $response->isRetryable()
            );
        }
        return $response;
    }

    /**
     * @return array<mixed>
     */
    public function getJson(string $pathAndQuery): array
    {
        $decoded = json_decode($this->send('GET', $pathAndQuery)->body, true);
        if (!is_array($decoded)) {
            throw new TransportException('LeakGuard server sent a non-JSON body for ' . strtok($pathAndQuery, '?'), false);
        }
        return $decoded;
    }

    /**
     * POSTs $payload now, or queues it for a later attempt when the failure is retryable.
     *
     * @return bool true when delivered now, false when queued
     * @throws TransportException when the server rejected the message for good (4xx other than retryable ones)
     */
    public function deliver(string $path, array $payload): bool
    {
        $body = json_encode($payload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR);
        try {
            $this->send('POST', $path, $body);
            return true;
        } catch (TransportException $e) {
            if (!$e->isRetryable() && $this->config->isEnrolled()) {
                throw $e;
            }
            $this->queue->enqueue('POST', $path, $body, $this->clock->now());
            $this->logger->info('LeakGuard queued a message for retry.', ['path' => $path, 'error' => $e->getMessage()]);
            return false;
        }
    }

    /**
     * @return array{sent: int, retried: int, dropped: int}
     */
    public function flush(int $limit = 100): array
    {
        $stats = ['sent' => 0, 'retried' => 0, 'dropped' => 0];
        foreach ($this->queue->due($this->clock->now(), $limit) as $message) {
            $status = null;
            try {
                $this->send($message['method'], $message['path'], $message['body']);
                $this->queue->delete($message['message_id']);
                $stats['sent']++;
                continue;
            } catch (TransportException $e) {
                $error = $e->getMessage();
                $retryable = $e->isRetryable();
                if (preg_match('/answered (\d{3})/', $error, $m) === 1) {
                    $status = (int) $m[1];
                }
            }
            $attempts = $message['attempts'] + 1;
            if (!$retryable || $attempts >= self::MAX_ATTEMPTS) {
                $this->queue->delete($message['message_id']);
                $this->logger->warning('LeakGuard dropped an undeliverable message.', [
                    'path' => $message['path'], 'attempts' => $attempts, 'error' => $error,
                ]);
                $stats['dropped']++;
                continue;
            }
            $this->queue->reschedule(
                $message['message_id'],
                $attempts,
                $this->clock->now()->modify('+' . $this->backoffSeconds($attempts) . ' seconds'),
                $status,
                $error
            );
            $stats['retried']++;
        }
        return $stats;
    }

    public function backoffSeconds(int $attempts): int
    {
        return (int) min(self::MAX_BACKOFF_SECONDS, self::BASE_BACKOFF_SECONDS * (2 ** max(0, $attempts - 1)));
    }
}
