<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Transport;

use LeakGuard\Connector\Model\Transport\Signer;
use LeakGuard\Connector\Test\Support\FixedClock;
use PHPUnit\Framework\TestCase;

class SignerTest extends TestCase
{
    /** @return array<string, array{0: array<string, mixed>}> */
    public static function vectors(): array
    {
        $vectors = json_decode((string) file_get_contents(dirname(__DIR__, 2) . '/fixtures/signing-vectors.json'), true);
        $cases = [];
        foreach ($vectors as $vector) {
            $cases[$vector['name']] = [$vector];
        }
        return $cases;
    }

    /** @dataProvider vectors */
    public function test_signatures_match_the_independently_computed_vectors(array $vector): void
    {
        $signer = new Signer(new FixedClock());
        self::assertSame(
            $vector['signature'],
            $signer->signature(
                $vector['secret'],
                $vector['method'],
                $vector['path'],
                (string) $vector['timestamp'],
                $vector['nonce'],
                $vector['body']
            )
        );
    }

    public function test_the_vector_file_has_an_empty_and_a_utf8_body(): void
    {
        $bodies = array_map(static fn (array $c): string => $c[0]['body'], self::vectors());
        self::assertGreaterThanOrEqual(4, count($bodies));
        self::assertContains('', $bodies);
        self::assertNotEmpty(array_filter($bodies, static fn (string $b): bool => strlen($b) !== mb_strlen($b, 'UTF-8')));
    }

    public function test_headers_carry_key_id_clock_time_a_fresh_nonce_and_a_verifiable_signature(): void
    {
        $clock = new FixedClock('2026-11-28 08:18:01');
        $signer = new Signer($clock);
        $first = $signer->headers('key-1', 'secret', 'POST', '/api/v1/magento/events', '{"events":[]}');
        $second = $signer->headers('key-1', 'secret', 'POST', '/api/v1/magento/events', '{"events":[]}');

        self::assertSame('key-1', $first['X-LeakGuard-Key-Id']);
        self::assertSame((string) $clock->unix(), $first['X-LeakGuard-Timestamp']);
        self::assertMatchesRegularExpression('/^[0-9a-f]{32}$/', $first['X-LeakGuard-Nonce']);
        self::assertNotSame($first['X-LeakGuard-Nonce'], $second['X-LeakGuard-Nonce']);
        self::assertMatchesRegularExpression('/^v1=[0-9a-f]{64}$/', $first['X-LeakGuard-Signature']);
        self::assertSame(
            $signer->signature('secret', 'POST', '/api/v1/magento/events', $first['X-LeakGuard-Timestamp'], $first['X-LeakGuard-Nonce'], '{"events":[]}'),
            $first['X-LeakGuard-Signature']
        );
    }

    public function test_any_change_to_body_path_or_method_changes_the_signature(): void
    {
        $signer = new Signer(new FixedClock());
        $base = $signer->signature('s', 'POST', '/a', '1', 'n', 'body');
        self::assertNotSame($base, $signer->signature('s', 'POST', '/a', '1', 'n', 'body '));
        self::assertNotSame($base, $signer->signature('s', 'POST', '/b', '1', 'n', 'body'));
        self::assertNotSame($base, $signer->signature('s', 'GET', '/a', '1', 'n', 'body'));
        self::assertNotSame($base, $signer->signature('t', 'POST', '/a', '1', 'n', 'body'));
    }
}
