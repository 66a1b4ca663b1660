<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Observer;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Redactor;
use LeakGuard\Connector\Model\Transport\Enrollment;
use LeakGuard\Connector\Observer\AdminApiAuthenticateObserver;
use LeakGuard\Connector\Observer\AdminLoginFailedObserver;
use LeakGuard\Connector\Observer\AdminLoginSuccessObserver;
use LeakGuard\Connector\Observer\AdminUserChangeObserver;
use LeakGuard\Connector\Observer\ConfigChangeObserver;
use LeakGuard\Connector\Observer\RoleChangeObserver;
use LeakGuard\Connector\Test\Support\FakeEncryptor;
use LeakGuard\Connector\Test\Support\FakeHttpClient;
use LeakGuard\Connector\Test\Support\TestKit;
use Magento\Authorization\Model\Role;
use Magento\Framework\Event;
use Magento\Framework\Event\Observer;
use Magento\Framework\Message\ManagerInterface;
use Magento\User\Model\User;
use PHPUnit\Framework\TestCase;

class ObserversTest extends TestCase
{
    private function observer(string $name, array $data): Observer
    {
        return new Observer(['event' => new Event(['name' => $name] + $data)]);
    }

    public function test_a_successful_login_records_the_user_and_never_the_password(): void
    {
        $kit = new TestKit();
        $kit->session->setUser(null);
        $user = new User(['user_id' => 7, 'username' => 'ops', 'password' => 'Secr3t!pw']);
        (new AdminLoginSuccessObserver($kit->recorder()))->execute(
            $this->observer('backend_auth_user_login_success', ['user' => $user, 'password' => 'Secr3t!pw'])
        );
        $line = $kit->jsonlLines()[0];
        self::assertSame('admin_login_success', $line['event']);
        self::assertSame(7, $line['admin_user_id']);
        self::assertSame('ops', $line['admin_username']);
        self::assertSame('success', $line['result']);
        self::assertStringNotContainsString('Secr3t', $kit->everythingStored());
    }

    public function test_a_failed_login_records_the_attempted_username_and_the_reason_class(): void
    {
        $kit = new TestKit();
        $kit->session->setUser(null);
        (new AdminLoginFailedObserver($kit->recorder()))->execute($this->observer('backend_auth_user_login_failed', [
            'user_name' => 'admin',
            'exception' => new \RuntimeException('The account sign-in was incorrect'),
            'password' => 'Secr3t!pw',
        ]));
        $line = $kit->jsonlLines()[0];
        self::assertSame('admin_login_failure', $line['event']);
        self::assertNull($line['admin_user_id']);
        self::assertSame('admin', $line['admin_username']);
        self::assertSame('failure', $line['result']);
        self::assertSame(['reason' => 'RuntimeException'], $line['details']);
        self::assertStringNotContainsString('Secr3t', $kit->everythingStored());
    }

    public function test_an_admin_user_save_records_changed_fields_and_a_password_change_flag_only(): void
    {
        $kit = new TestKit();
        $user = new class (['user_id' => 31, 'username' => 'newbie', 'email' => 'n@agency.example', 'is_active' => 1,
            'password' => 'PlainNewPass1', 'current_password' => 'AdminPass!', 'firstname' => 'New']) extends User {
            public function getOrigData($key = null)
            {
                return ['user_id' => 31, 'username' => 'newbie', 'email' => 'old@agency.example', 'is_active' => 1, 'firstname' => 'New'];
            }
        };
        (new AdminUserChangeObserver($kit->recorder()))->execute($this->observer('admin_user_save_after', ['data_object' => $user]));
        $line = $kit->jsonlLines()[0];
        self::assertSame('admin_user_change', $line['event']);
        self::assertSame('admin_user', $line['entity_type']);
        self::assertSame([31], $line['entity_ids']);
        self::assertSame(12, $line['admin_user_id']);
        self::assertSame('save', $line['details']['operation']);
        self::assertTrue($line['details']['password_changed']);
        self::assertSame(['email'], $line['details']['changed_fields']);
        self::assertSame('n@agency.example', $line['details']['email']);
        self::assertStringNotContainsString('PlainNewPass1', $kit->everythingStored());
        self::assertStringNotContainsString('AdminPass!', $kit->everythingStored());
    }

    public function test_a_new_admin_user_is_recorded_as_a_create_and_a_delete_as_a_delete(): void
    {
        $kit = new TestKit();
        $observer = new AdminUserChangeObserver($kit->recorder());
        $observer->execute($this->observer('admin_user_save_after', ['data_object' => new User(['user_id' => 40, 'username' => 'x'])]));
        $observer->execute($this->observer('admin_user_delete_after', ['data_object' => new User(['user_id' => 40, 'username' => 'x'])]));
        $lines = $kit->jsonlLines();
        self::assertSame('create', $lines[0]['details']['operation']);
        self::assertFalse($lines[0]['details']['password_changed']);
        self::assertSame('delete', $lines[1]['details']['operation']);
    }

    public function test_a_role_save_records_the_role_and_its_resources(): void
    {
        $kit = new TestKit();
        $role = new Role(['role_id' => 5, 'role_name' => 'Agency', 'role_type' => 'G', 'resource' => ['Magento_Customer::manage', 'Magento_Sales::actions_view']]);
        (new RoleChangeObserver($kit->recorder()))->execute($this->observer('authorization_roles_save_after', ['data_object' => $role]));
        $line = $kit->jsonlLines()[0];
        self::assertSame('role_change', $line['event']);
        self::assertSame([5], $line['entity_ids']);
        self::assertSame('Agency', $line['details']['role_name']);
        self::assertSame(['Magento_Customer::manage', 'Magento_Sales::actions_view'], $line['details']['resources']);
        self::assertSame(2, $line['details']['resource_count']);
    }

    private function configObserver(TestKit $kit, FakeHttpClient $http, ManagerInterface $messages): ConfigChangeObserver
    {
        return new ConfigChangeObserver($kit->recorder(), $kit->configValues, new Redactor(), new Enrollment($kit->config, $http), $kit->config, $messages);
    }

    public function test_a_config_save_records_changed_paths_with_secret_values_masked(): void
    {
        $kit = new TestKit();
        $kit->configValues->values['oauth/consumer/enable_integration_as_bearer'] = '1';
        $kit->configValues->values['payment/braintree/private_key'] = 'pk_live_123';
        $messages = $this->createMock(ManagerInterface::class);
        $this->configObserver($kit, new FakeHttpClient(), $messages)->execute($this->observer('admin_system_config_changed_section_oauth', [
            'website' => '', 'store' => '',
            'changed_paths' => ['oauth/consumer/enable_integration_as_bearer', 'payment/braintree/private_key'],
        ]));
        $line = $kit->jsonlLines()[0];
        self::assertSame('config_change', $line['event']);
        self::assertSame('default', $line['details']['scope']);
        self::assertTrue($line['details']['sensitive']);
        self::assertSame('1', $line['details']['values']['oauth/consumer/enable_integration_as_bearer']);
        self::assertSame('[redacted]', $line['details']['values']['payment/braintree/private_key']);
        self::assertStringNotContainsString('pk_live_123', $kit->everythingStored());
    }

    public function test_saving_an_enrollment_token_enrolls_the_shop(): void
    {
        $kit = new TestKit([
            Config::XML_SERVER_URL => 'https://leakguard.example',
            Config::XML_ENROLLMENT_TOKEN => (new FakeEncryptor())->encrypt('enroll-tok-1'),
        ]);
        $http = (new FakeHttpClient())->answer(200, '{"tenant_id":"0190a0b0-0000-7000-8000-000000000001","key_id":"k1","secret":"s3cret"}');
        $messages = $this->createMock(ManagerInterface::class);
        $messages->expects(self::once())->method('addSuccessMessage');
        $this->configObserver($kit, $http, $messages)->execute($this->observer('admin_system_config_changed_section_leakguard', [
            'changed_paths' => [Config::XML_ENROLLMENT_TOKEN],
        ]));
        self::assertSame('k1', $kit->config->getKeyId());
        self::assertSame('s3cret', $kit->config->getSharedSecret());
        self::assertSame('', $kit->config->getEnrollmentToken());
        self::assertStringNotContainsString('enroll-tok-1', $kit->everythingStored());
        self::assertStringNotContainsString('s3cret', $kit->everythingStored());
    }

    public function test_a_failed_enrollment_shows_an_error_and_keeps_the_shop_unenrolled(): void
    {
        $kit = new TestKit([
            Config::XML_SERVER_URL => 'https://leakguard.example',
            Config::XML_ENROLLMENT_TOKEN => (new FakeEncryptor())->encrypt('expired'),
        ]);
        $messages = $this->createMock(ManagerInterface::class);
        $messages->expects(self::once())->method('addErrorMessage')->with(self::stringContains('HTTP 403'));
        $this->configObserver($kit, (new FakeHttpClient())->answer(403), $messages)->execute(
            $this->observer('admin_system_config_changed_section_leakguard', ['changed_paths' => [Config::XML_ENROLLMENT_TOKEN]])
        );
        self::assertFalse($kit->config->isEnrolled());
    }

    public function test_admin_token_requests_over_rest_are_logged_without_the_plaintext_password(): void
    {
        $kit = new TestKit();
        $kit->session->setUser(null);
        $observer = new AdminApiAuthenticateObserver($kit->recorder(null, 'webapi_rest'));
        $observer->execute($this->observer('admin_user_authenticate_after', [
            'username' => 'ops', 'password' => 'Secr3t!pw', 'user' => new User(['user_id' => 7, 'username' => 'ops']), 'result' => true,
        ]));
        $observer->execute($this->observer('admin_user_authenticate_after', [
            'username' => 'ops', 'password' => 'guess-1', 'user' => new User([]), 'result' => false,
        ]));
        [$ok, $failed] = $kit->jsonlLines();
        self::assertSame(['admin_login_success', 7, 'success', 'webapi_admin_token'], [$ok['event'], $ok['admin_user_id'], $ok['result'], $ok['action']]);
        self::assertSame(['admin_login_failure', null, 'ops', 'failure'], [$failed['event'], $failed['admin_user_id'], $failed['admin_username'], $failed['result']]);
        self::assertSame(['channel' => 'rest_admin_token'], $failed['details']);
        self::assertStringNotContainsString('Secr3t', $kit->everythingStored());
        self::assertStringNotContainsString('guess-1', $kit->everythingStored());
    }
}
