<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Retention;

use LeakGuard\Connector\Model\Retention\BatchResult;
use LeakGuard\Connector\Model\Retention\ClassProgress;
use LeakGuard\Connector\Model\Retention\Handler\CardHolderDataHandler;
use LeakGuard\Connector\Model\Retention\Handler\VaultTokensHandler;
use LeakGuard\Connector\Model\Retention\PayloadCodec;
use LeakGuard\Connector\Model\Retention\Policy;
use LeakGuard\Connector\Model\Retention\PolicyClass;
use PHPUnit\Framework\TestCase;

class PolicyTest extends TestCase
{
    public function test_the_fixture_policy_parses(): void
    {
        $json = (string) file_get_contents(dirname(__DIR__, 2) . '/fixtures/retention-policy.json');
        $policy = Policy::fromJson($json);
        self::assertSame(3, $policy->version);
        self::assertSame(hash('sha256', $json), $policy->sha256);
        self::assertSame(
            ['card_holder_data', 'gateway_raw_response', 'vault_tokens', 'abandoned_checkout_payment', 'additional_information'],
            array_map(fn (PolicyClass $c) => $c->class, $policy->classes)
        );
        self::assertContains('method_title', $policy->classes[4]->allowKeys);
    }

    /** @return array<string, array{0: string, 1: string}> */
    public static function invalidPolicies(): array
    {
        return [
            'not json' => ['{', 'not valid JSON'],
            'no version' => ['{"classes":[]}', '"version"'],
            'string version' => ['{"version":"3","classes":[]}', '"version"'],
            'classes not a list' => ['{"version":1,"classes":{"a":1}}', '"classes"'],
            'negative age' => ['{"version":1,"classes":[{"class":"x","max_age_days":-1}]}', 'classes[0].max_age_days'],
            'empty class' => ['{"version":1,"classes":[{"class":""}]}', 'classes[0].class'],
            'bad allow keys' => ['{"version":1,"classes":[{"class":"x","allow_keys":[1]}]}', 'classes[0].allow_keys'],
        ];
    }

    /** @dataProvider invalidPolicies */
    public function test_an_invalid_policy_is_rejected_naming_the_field(string $json, string $field): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage($field);
        Policy::fromJson($json);
    }

    public function test_handlers_accept_only_their_anchors_and_actions(): void
    {
        $card = new CardHolderDataHandler();
        self::assertNull($card->validate(new PolicyClass('card_holder_data', 0, 'order_completion', 'null')));
        self::assertNull($card->validate(new PolicyClass('card_holder_data', 0, '', 'null')));
        self::assertStringContainsString('anchor', (string) $card->validate(new PolicyClass('card_holder_data', 0, 'token_expiry', 'null')));
        self::assertStringContainsString('action', (string) (new VaultTokensHandler())->validate(new PolicyClass('vault_tokens', 0, 'token_expiry', 'null')));
    }

    public function test_the_codec_round_trips_json_and_php_arrays_and_refuses_objects(): void
    {
        $codec = new PayloadCodec();
        self::assertSame([['a' => 1], 'json'], $codec->decode('{"a":1}'));
        self::assertSame([['a' => 1], 'php'], $codec->decode(serialize(['a' => 1])));
        self::assertSame('a:1:{s:1:"a";i:1;}', $codec->encode(['a' => 1], 'php'));
        self::assertSame('{"a":"é/x"}', $codec->encode(['a' => 'é/x'], 'json'));
        self::assertNull($codec->decode('O:8:"stdClass":0:{}'));
        $decoded = $codec->decode('a:1:{s:1:"o";O:8:"stdClass":0:{}}');
        self::assertInstanceOf(\__PHP_Incomplete_Class::class, $decoded[0]['o']);
        self::assertNull($codec->decode('plain text'));
        self::assertNull($codec->decode(null));
    }

    public function test_the_id_hash_chain_does_not_depend_on_batch_boundaries(): void
    {
        $one = new ClassProgress('c', 'r', 1, '2026-01-01 00:00:00', 10, '2026-01-01 00:00:00');
        $one->add(new BatchResult([1, 2, 3, 7]), 10, 0);
        $two = new ClassProgress('c', 'r', 1, '2026-01-01 00:00:00', 10, '2026-01-01 00:00:00');
        $two->add(new BatchResult([1, 2]), 4, 0);
        $two->add(new BatchResult([3]), 6, 0);
        $two->add(new BatchResult([7]), 10, 0);
        self::assertSame($one->idsSha256, $two->idsSha256);
        self::assertSame(4, $two->rowsAffected);
        self::assertSame(1, $two->firstAffectedId);
        self::assertSame(7, $two->lastAffectedId);
        self::assertSame(hash('sha256', hash('sha256', hash('sha256', hash('sha256', hash('sha256', '') . ':1') . ':2') . ':3') . ':7'), $one->idsSha256);
    }
}
