<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Sso;

use LeakGuard\Connector\Model\Sso\Jwt;
use PHPUnit\Framework\TestCase;

class JwtTest extends TestCase
{
    private function vector(): array
    {
        return json_decode((string) file_get_contents(dirname(__DIR__, 2) . '/fixtures/jwt-vectors.json'), true)[0];
    }

    public function test_encoding_matches_the_token_computed_independently(): void
    {
        $vector = $this->vector();
        self::assertSame($vector['token'], (new Jwt())->encode($vector['claims'], $vector['secret']));
    }

    public function test_decoding_returns_the_claims_of_a_valid_token(): void
    {
        $vector = $this->vector();
        self::assertSame($vector['claims'], (new Jwt())->decode($vector['token'], $vector['secret']));
    }

    public function test_a_token_signed_with_another_secret_is_rejected(): void
    {
        $vector = $this->vector();
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('signature does not match');
        (new Jwt())->decode($vector['token'], 'another secret');
    }

    public function test_a_token_with_altered_claims_is_rejected(): void
    {
        $vector = $this->vector();
        $jwt = new Jwt();
        [$header, , $signature] = explode('.', $vector['token']);
        $forged = $header . '.' . $jwt->base64UrlEncode(json_encode(['sub' => '1', 'role' => 'admin'])) . '.' . $signature;
        $this->expectException(\InvalidArgumentException::class);
        $jwt->decode($forged, $vector['secret']);
    }

    public function test_an_unsigned_token_is_rejected(): void
    {
        $jwt = new Jwt();
        $none = $jwt->base64UrlEncode('{"alg":"none"}') . '.' . $jwt->base64UrlEncode('{"sub":"1"}') . '.';
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('not HS256');
        $jwt->decode($none, 'x');
    }

    public function test_segments_are_base64url_without_padding(): void
    {
        $token = (new Jwt())->encode(['sub' => '1', 'name' => "\u{00ff}\u{00fe}?>"], 'k');
        self::assertMatchesRegularExpression('/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/', $token);
    }
}
