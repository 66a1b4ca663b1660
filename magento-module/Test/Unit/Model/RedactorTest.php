<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Model;

use LeakGuard\Connector\Model\Redactor;
use PHPUnit\Framework\TestCase;

class RedactorTest extends TestCase
{
    public function test_credential_keys_are_masked_at_any_depth(): void
    {
        $out = (new Redactor())->redact([
            'username' => 'jdoe',
            'password' => 'Secr3t!pw',
            'current_password' => 'Secr3t!pw',
            'nested' => ['api_key' => 'k-123', 'Authorization' => 'Bearer abc', 'deeper' => ['client_secret' => 's']],
            'form_key' => 'fk',
            'key' => 'admin-url-secret',
            'oauth_token' => 't',
            'cc_number' => '4111111111111111',
            'cc_cid' => '123',
        ]);
        self::assertSame('jdoe', $out['username']);
        foreach (['password', 'current_password', 'form_key', 'key', 'oauth_token', 'cc_number', 'cc_cid'] as $key) {
            self::assertSame(Redactor::MASK, $out[$key], $key);
        }
        self::assertSame(Redactor::MASK, $out['nested']['api_key']);
        self::assertSame(Redactor::MASK, $out['nested']['Authorization']);
        self::assertSame(Redactor::MASK, $out['nested']['deeper']['client_secret']);
    }

    public function test_values_that_look_like_credentials_or_card_numbers_are_masked_under_any_key(): void
    {
        $out = (new Redactor())->redact(['note' => 'Bearer eyJhbGciOi', 'search' => 'card 4111111111111111 please', 'q' => 'jane']);
        self::assertSame(Redactor::MASK, $out['note']);
        self::assertSame(Redactor::MASK, $out['search']);
        self::assertSame('jane', $out['q']);
    }

    public function test_harmless_identifiers_stay_readable(): void
    {
        $out = (new Redactor())->redact(['namespace' => 'customer_listing', 'company' => 'ACME', 'changed_paths' => ['a/b/c'], 'filters' => ['email' => '%@example.com']]);
        self::assertSame('customer_listing', $out['namespace']);
        self::assertSame('ACME', $out['company']);
        self::assertSame(['a/b/c'], $out['changed_paths']);
        self::assertSame(['email' => '%@example.com'], $out['filters']);
    }

    public function test_long_strings_objects_and_large_lists_are_bounded(): void
    {
        $out = (new Redactor())->redact(['long' => str_repeat('x', 1000), 'object' => new \ArrayObject(), 'list' => range(1, 80)]);
        self::assertSame(257, mb_strlen($out['long']));
        self::assertSame('[object ArrayObject]', $out['object']);
        self::assertCount(51, $out['list']);
        self::assertTrue($out['list']['_truncated']);
    }

    public function test_config_values_are_masked_by_their_path(): void
    {
        $redactor = new Redactor();
        self::assertSame(Redactor::MASK, $redactor->configValue('payment/braintree/private_key', 'pk'));
        self::assertSame(Redactor::MASK, $redactor->configValue('leakguard/connection/shared_secret', '0:3:abc'));
        self::assertSame(Redactor::MASK, $redactor->configValue('carriers/ups/password', 'pw'));
        self::assertSame('1', $redactor->configValue('oauth/consumer/enable_integration_as_bearer', '1'));
        self::assertSame('900', $redactor->configValue('admin/security/session_lifetime', '900'));
    }
}
