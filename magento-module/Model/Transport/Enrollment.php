<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Transport;

use LeakGuard\Connector\Model\Config;

/**
 * Exchanges the single-use enrollment token for this shop's key id and secret:
 * POST {server}/api/v1/magento/enroll {"enrollment_token","base_url","module_version"}
 * -> 200 {"tenant_id","key_id","secret"}. The secret is stored encrypted; the token is then forgotten.
 */
class Enrollment
{
    private Config $config;
    private HttpClientInterface $httpClient;

    public function __construct(Config $config, HttpClientInterface $httpClient)
    {
        $this->config = $config;
        $this->httpClient = $httpClient;
    }

    /**
     * @return array{tenant_id: string, key_id: string}
     * @throws TransportException naming the problem, never the token or secret
     */
    public function enroll(?string $token = null): array
    {
        $serverUrl = $this->config->getServerUrl();
        $this->assertServerUrl($serverUrl);
        $token = trim($token ?? $this->config->getEnrollmentToken());
        if ($token === '') {
            throw new TransportException('no enrollment token is configured', false);
        }
        $body = json_encode([
            'enrollment_token' => $token,
            'base_url' => $this->config->getBaseUrl(),
            'module_version' => Config::MODULE_VERSION,
        ], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR);
        $response = $this->httpClient->request(
            'POST',
            $serverUrl . ServerClient::PATH_ENROLL,
            ['Content-Type' => 'application/json', 'Accept' => 'application/json'],
            $body
        );
        if (!$response->isSuccess()) {
            throw new TransportException('enrollment was refused by the server (HTTP ' . $response->status . ')', $response->isRetryable());
        }
        $answer = json_decode($response->body, true);
        foreach (['tenant_id', 'key_id', 'secret'] as $field) {
            if (!is_array($answer) || !is_string($answer[$field] ?? null) || $answer[$field] === '') {
                throw new TransportException('enrollment answer lacks ' . $field, false);
            }
        }
        $this->config->saveEnrollment($answer['tenant_id'], $answer['key_id'], $answer['secret']);
        return ['tenant_id' => $answer['tenant_id'], 'key_id' => $answer['key_id']];
    }

    private function assertServerUrl(string $serverUrl): void
    {
        $scheme = parse_url($serverUrl, PHP_URL_SCHEME);
        $host = parse_url($serverUrl, PHP_URL_HOST);
        if (!is_string($host) || $host === '') {
            throw new TransportException('the LeakGuard server URL is not set', false);
        }
        $loopback = in_array($host, ['localhost', '127.0.0.1', '::1', '[::1]'], true);
        if ($scheme !== 'https' && !($scheme === 'http' && $loopback)) {
            throw new TransportException('the LeakGuard server URL must use https', false);
        }
    }
}
