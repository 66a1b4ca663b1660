<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Sso;

use LeakGuard\Connector\Controller\Adminhtml\Console\Open;
use LeakGuard\Connector\Model\Sso\ConsoleLinkBuilder;
use LeakGuard\Connector\Model\Sso\ConsoleRoleResolver;
use LeakGuard\Connector\Model\Sso\Jwt;
use LeakGuard\Connector\Test\Support\TestKit;
use Magento\Backend\App\Action\Context;
use Magento\Backend\Model\Auth;
use Magento\Framework\App\Request\Http;
use Magento\Framework\AuthorizationInterface;
use Magento\Framework\Controller\Result\RedirectFactory;
use Magento\Framework\Message\ManagerInterface;
use PHPUnit\Framework\TestCase;

class ConsoleSsoTest extends TestCase
{
    private function authorization(array $allowed): AuthorizationInterface
    {
        return new class ($allowed) implements AuthorizationInterface {
            public function __construct(private array $allowed)
            {
            }

            public function isAllowed($resource, $privilege = null)
            {
                return in_array($resource, $this->allowed, true);
            }
        };
    }

    public function test_the_console_role_is_the_highest_granted_resource(): void
    {
        $resolver = new ConsoleRoleResolver();
        $all = ['LeakGuard_Connector::console', 'LeakGuard_Connector::console_review', 'LeakGuard_Connector::console_admin'];
        self::assertSame('admin', $resolver->resolve($this->authorization($all)));
        self::assertSame('analyst', $resolver->resolve($this->authorization(array_slice($all, 0, 2))));
        self::assertSame('viewer', $resolver->resolve($this->authorization(['LeakGuard_Connector::console'])));
        self::assertNull($resolver->resolve($this->authorization(['Magento_Sales::sales'])));
    }

    public function test_the_link_carries_a_60_second_hs256_token_with_the_documented_claims(): void
    {
        $kit = new TestKit();
        $kit->enroll('tenant-secret');
        $url = (new ConsoleLinkBuilder($kit->config, new Jwt(), $kit->clock))->build(12, 'jdoe', 'analyst');
        self::assertStringStartsWith('https://leakguard.example/console/sso?token=', $url);
        $token = rawurldecode(substr($url, strlen('https://leakguard.example/console/sso?token=')));
        $claims = (new Jwt())->decode($token, 'tenant-secret');
        self::assertSame('https://shop.example', $claims['iss']);
        self::assertSame('leakguard-console', $claims['aud']);
        self::assertSame('12', $claims['sub']);
        self::assertSame('jdoe', $claims['name']);
        self::assertSame('analyst', $claims['role']);
        self::assertSame($kit->clock->unix(), $claims['iat']);
        self::assertSame($kit->clock->unix() + 60, $claims['exp']);
        self::assertMatchesRegularExpression('/^[0-9a-f]{32}$/', $claims['jti']);
        self::assertSame(['iss', 'aud', 'sub', 'name', 'role', 'iat', 'exp', 'jti'], array_keys($claims));
    }

    public function test_no_link_is_built_before_enrollment(): void
    {
        $kit = new TestKit();
        $this->expectException(\RuntimeException::class);
        (new ConsoleLinkBuilder($kit->config, new Jwt(), $kit->clock))->build(1, 'a', 'viewer');
    }

    private function controller(TestKit $kit, array $allowed, ManagerInterface $messages): Open
    {
        $context = new Context(new Http('leakguard_console_open'), new Auth($kit->session), $this->authorization($allowed), new RedirectFactory(), $messages);
        return new Open($context, new ConsoleRoleResolver(), new ConsoleLinkBuilder($kit->config, new Jwt(), $kit->clock), $kit->recorder());
    }

    public function test_the_controller_redirects_an_allowed_admin_to_the_console_and_logs_it(): void
    {
        $kit = new TestKit();
        $kit->enroll('tenant-secret');
        $result = $this->controller($kit, ['LeakGuard_Connector::console'], $this->createMock(ManagerInterface::class))->execute();
        self::assertStringStartsWith('https://leakguard.example/console/sso?token=', $result->url);
        $line = $kit->jsonlLines()[0];
        self::assertSame('console_sso', $line['event']);
        self::assertSame('viewer', $line['details']['role']);
        self::assertStringNotContainsString('tenant-secret', $kit->everythingStored());
        self::assertStringNotContainsString(substr($result->url, -20), $kit->everythingStored());
    }

    public function test_the_controller_refuses_an_admin_without_a_console_resource(): void
    {
        $kit = new TestKit();
        $kit->enroll();
        $messages = $this->createMock(ManagerInterface::class);
        $messages->expects(self::once())->method('addErrorMessage');
        $result = $this->controller($kit, [], $messages)->execute();
        self::assertNull($result->url);
        self::assertSame('admin/dashboard', $result->path);
        self::assertSame('LeakGuard_Connector::console', Open::ADMIN_RESOURCE);
    }

    public function test_the_controller_sends_an_unenrolled_shop_to_the_settings(): void
    {
        $kit = new TestKit();
        $messages = $this->createMock(ManagerInterface::class);
        $messages->expects(self::once())->method('addErrorMessage');
        $result = $this->controller($kit, ['LeakGuard_Connector::console_admin'], $messages)->execute();
        self::assertSame('adminhtml/system_config/edit', $result->path);
    }
}
