<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Transport;

use LeakGuard\Connector\Model\Clock;

/**
 * Signs requests to the LeakGuard server (scheme "v1", HMAC-SHA256).
 *
 * Message: "v1\n" . timestamp . "\n" . nonce . "\n" . METHOD . "\n" . path_and_query . "\n" . hex(sha256(body)).
 * Key: the UTF-8 bytes of the tenant secret. The server accepts |now - timestamp| <= 300 s and each nonce once.
 * This class never logs or returns the secret.
 */
class Signer
{
    public const HEADER_KEY_ID = 'X-LeakGuard-Key-Id';
    public const HEADER_TIMESTAMP = 'X-LeakGuard-Timestamp';
    public const HEADER_NONCE = 'X-LeakGuard-Nonce';
    public const HEADER_SIGNATURE = 'X-LeakGuard-Signature';

    private Clock $clock;

    public function __construct(Clock $clock)
    {
        $this->clock = $clock;
    }

    public function canonicalMessage(
        string $method,
        string $pathAndQuery,
        string $timestamp,
        string $nonce,
        string $body
    ): string {
        return "v1\n" . $timestamp . "\n" . $nonce . "\n" . strtoupper($method) . "\n" . $pathAndQuery . "\n"
            . hash('sha256', $body);
    }

    /**
     * @return string the header value, "v1=" followed by 64 lowercase hex characters
     */
    public function signature(
        string $secret,
        string $method,
        string $pathAndQuery,
        string $timestamp,
        string $nonce,
        string $body
    ): string {
        $message = $this->canonicalMessage($method, $pathAndQuery, $timestamp, $nonce, $body);
        return 'v1=' . hash_hmac('sha256', $message, $secret);
    }

    public function newNonce(): string
    {
        return bin2hex(random_bytes(16));
    }

    /**
     * @return array<string, string> the four authentication headers for one request
     */
    public function headers(string $keyId, string $secret, string $method, string $pathAndQuery, string $body): array
    {
        $timestamp = (string) $this->clock->unix();
        $nonce = $this->newNonce();
        return [
            self::HEADER_KEY_ID => $keyId,
            self::HEADER_TIMESTAMP => $timestamp,
            self::HEADER_NONCE => $nonce,
            self::HEADER_SIGNATURE => $this->signature($secret, $method, $pathAndQuery, $timestamp, $nonce, $body),
        ];
    }
}
