<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Sso;

/**
 * Compact JWS with HS256 (RFC 7515/7519), enough for the console hand-off token.
 *
 * Claims are encoded as compact JSON (no escaped slashes or unicode) in the order given.
 * The secret never appears in an exception message.
 */
class Jwt
{
    private const HEADER = ['alg' => 'HS256', 'typ' => 'JWT'];

    /**
     * @param array<string, mixed> $claims
     */
    public function encode(array $claims, string $secret): string
    {
        $signingInput = $this->base64UrlEncode($this->json(self::HEADER)) . '.'
            . $this->base64UrlEncode($this->json($claims));
        return $signingInput . '.' . $this->base64UrlEncode(hash_hmac('sha256', $signingInput, $secret, true));
    }

    /**
     * Verifies the signature and returns the claims; used by tests and by `leakguard:sso:verify` style tooling.
     *
     * @return array<string, mixed>
     * @throws \InvalidArgumentException when the token is malformed, not HS256 or the signature does not match
     */
    public function decode(string $token, string $secret): array
    {
        $parts = explode('.', $token);
        if (count($parts) !== 3) {
            throw new \InvalidArgumentException('token must have three segments');
        }
        [$header64, $claims64, $signature64] = $parts;
        $header = json_decode($this->base64UrlDecode($header64), true);
        if (!is_array($header) || ($header['alg'] ?? null) !== 'HS256') {
            throw new \InvalidArgumentException('token header is not HS256');
        }
        $expected = hash_hmac('sha256', $header64 . '.' . $claims64, $secret, true);
        if (!hash_equals($expected, $this->base64UrlDecode($signature64))) {
            throw new \InvalidArgumentException('token signature does not match');
        }
        $claims = json_decode($this->base64UrlDecode($claims64), true);
        if (!is_array($claims)) {
            throw new \InvalidArgumentException('token claims are not a JSON object');
        }
        return $claims;
    }

    public function base64UrlEncode(string $bytes): string
    {
        return rtrim(strtr(base64_encode($bytes), '+/', '-_'), '=');
    }

    public function base64UrlDecode(string $text): string
    {
        $decoded = base64_decode(strtr($text, '-_', '+/') . str_repeat('=', (4 - strlen($text) % 4) % 4), true);
        if ($decoded === false) {
            throw new \InvalidArgumentException('segment is not base64url');
        }
        return $decoded;
    }

    /**
     * @param array<string, mixed> $value
     */
    private function json(array $value): string
    {
        return json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }
}
