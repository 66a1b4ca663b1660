<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Plugin;

use LeakGuard\Connector\Model\ActionLog\ActionClassifier;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Sql\AttributionContext;
use LeakGuard\Connector\Model\Sql\CommentFormatter;
use LeakGuard\Connector\Plugin\Backend\App\AbstractActionPlugin;
use LeakGuard\Connector\Plugin\Backend\Model\AuthPlugin;
use LeakGuard\Connector\Plugin\Integration\AuthorizationServicePlugin;
use LeakGuard\Connector\Plugin\Integration\IntegrationServicePlugin;
use LeakGuard\Connector\Test\Support\TestKit;
use Magento\Backend\App\AbstractAction;
use Magento\Backend\Model\Auth;
use Magento\Framework\App\Request\Http;
use Magento\Integration\Api\AuthorizationServiceInterface;
use Magento\Integration\Api\IntegrationServiceInterface;
use Magento\Integration\Model\Integration;
use PHPUnit\Framework\TestCase;

class AdminPluginsTest extends TestCase
{
    private function action(): AbstractAction
    {
        return new class extends AbstractAction {
            public function execute()
            {
                return 'page';
            }
        };
    }

    private function plugin(TestKit $kit, Http $request, ?AttributionContext $attribution = null): AbstractActionPlugin
    {
        $context = $kit->requestContext($request);
        return new AbstractActionPlugin(
            new ActionClassifier(),
            $kit->recorder($context),
            $kit->config,
            $kit->currentAdmin(),
            $context,
            $attribution ?? new AttributionContext(new CommentFormatter())
        );
    }

    public function test_a_successful_grid_export_is_recorded_after_it_ran(): void
    {
        $kit = new TestKit();
        $request = new Http('mui_export_gridToCsv', ['namespace' => 'customer_listing', 'selected' => ['1']]);
        $ran = false;
        $result = $this->plugin($kit, $request)->aroundDispatch($this->action(), function ($r) use (&$ran) {
            $ran = true;
            return 'csv-stream';
        }, $request);
        self::assertTrue($ran);
        self::assertSame('csv-stream', $result);
        $line = $kit->jsonlLines()[0];
        self::assertSame('grid_export', $line['event']);
        self::assertSame('mui_export_gridToCsv', $line['action']);
        self::assertSame('success', $line['result']);
        self::assertSame(12, $line['admin_user_id']);
    }

    public function test_an_export_that_throws_is_recorded_as_a_failure_and_the_exception_propagates(): void
    {
        $kit = new TestKit();
        $request = new Http('adminhtml_export_export', ['entity' => 'customer']);
        try {
            $this->plugin($kit, $request)->aroundDispatch($this->action(), function () {
                throw new \DomainException('queue down');
            }, $request);
            self::fail('the exception must propagate');
        } catch (\DomainException $e) {
            self::assertSame('queue down', $e->getMessage());
        }
        $line = $kit->jsonlLines()[0];
        self::assertSame('data_transfer_export', $line['event']);
        self::assertSame('failure', $line['result']);
        self::assertSame('DomainException', $line['details']['error']);
    }

    public function test_an_export_refused_by_the_acl_is_recorded_as_denied(): void
    {
        $kit = new TestKit();
        $request = new Http('reports_report_shopcart_exportAbandonedCsv');
        $action = $this->action();
        $this->plugin($kit, $request)->aroundDispatch($action, function () use ($action) {
            $action->getResponse()->setHttpResponseCode(403);
            return $action->getResponse();
        }, $request);
        self::assertSame('denied', $kit->jsonlLines()[0]['result']);
        self::assertSame('report_export', $kit->jsonlLines()[0]['event']);
    }

    public function test_any_other_denied_action_is_recorded_as_access_denied(): void
    {
        $kit = new TestKit();
        $request = new Http('adminhtml_user_edit', ['user_id' => '1']);
        $this->plugin($kit, $request)->aroundDispatch($this->action(), function (Http $r) {
            $r->setActionName('denied');
            return null;
        }, $request);
        $line = $kit->jsonlLines()[0];
        self::assertSame('access_denied', $line['event']);
        self::assertSame('adminhtml_user_edit', $line['action']);
        self::assertSame('denied', $line['result']);
    }

    public function test_plain_navigation_writes_nothing_but_sets_the_sql_attribution(): void
    {
        $kit = new TestKit();
        $request = new Http('customer_index_index', [], ['X-Request-Id' => 'req-0123456789']);
        $attribution = new AttributionContext(new CommentFormatter());
        $this->plugin($kit, $request, $attribution)->aroundDispatch($this->action(), fn () => 'page', $request);
        self::assertSame([], $kit->adminRows());
        self::assertSame("/*lg_admin='12',lg_route='customer_index_index',lg_req='req-0123456789'*/", $attribution->comment());
    }

    public function test_with_capture_off_the_action_runs_and_nothing_is_recorded(): void
    {
        $kit = new TestKit([Config::XML_CAPTURE_ADMIN_ACTIONS => '0']);
        $request = new Http('mui_export_gridToCsv', ['namespace' => 'customer_listing']);
        self::assertSame('csv', $this->plugin($kit, $request)->aroundDispatch($this->action(), fn () => 'csv', $request));
        self::assertSame([], $kit->adminRows());
    }

    public function test_logout_is_recorded_with_the_user_who_logged_out(): void
    {
        $kit = new TestKit();
        $auth = new Auth($kit->session);
        $plugin = new AuthPlugin($kit->recorder());
        $plugin->beforeLogout($auth);
        $auth->logout();
        self::assertSame('done', $plugin->afterLogout($auth, 'done'));
        $line = $kit->jsonlLines()[0];
        self::assertSame('logout', $line['event']);
        self::assertSame(12, $line['admin_user_id']);
        self::assertSame('jdoe', $line['admin_username']);
    }

    public function test_logout_without_a_session_user_records_nothing(): void
    {
        $kit = new TestKit();
        $kit->session->setUser(null);
        $auth = new Auth($kit->session);
        $plugin = new AuthPlugin($kit->recorder());
        $plugin->beforeLogout($auth);
        $plugin->afterLogout($auth, null);
        self::assertSame([], $kit->adminRows());
    }

    public function test_integration_create_update_delete_keep_descriptive_fields_only(): void
    {
        $kit = new TestKit();
        $service = $this->createMock(IntegrationServiceInterface::class);
        $plugin = new IntegrationServicePlugin($kit->recorder());
        $integration = new Integration(['integration_id' => 9, 'name' => 'ERP sync', 'email' => 'erp@vendor.example', 'endpoint' => 'https://erp.vendor.example/cb', 'status' => 0]);
        $data = ['name' => 'ERP sync', 'current_password' => 'AdminPass!', 'all_resources' => 0, 'resource' => ['Magento_Customer::manage', 'Magento_Sales::actions_view']];
        self::assertSame($integration, $plugin->afterCreate($service, $integration, $data));
        $plugin->afterUpdate($service, $integration, $data);
        $plugin->afterDelete($service, ['integration_id' => 9, 'name' => 'ERP sync'], 9);
        $lines = $kit->jsonlLines();
        self::assertSame(['create', 'update', 'delete'], array_map(fn ($l) => $l['details']['operation'], $lines));
        self::assertSame('integration_change', $lines[0]['event']);
        self::assertSame([9], $lines[0]['entity_ids']);
        self::assertSame('https://erp.vendor.example/cb', $lines[0]['details']['endpoint']);
        self::assertSame(['Magento_Customer::manage', 'Magento_Sales::actions_view'], $lines[0]['details']['requested_resources']);
        self::assertStringNotContainsString('AdminPass!', $kit->everythingStored());
    }

    public function test_integration_grants_are_recorded_with_the_resources(): void
    {
        $kit = new TestKit();
        $service = $this->createMock(AuthorizationServiceInterface::class);
        $plugin = new AuthorizationServicePlugin($kit->recorder());
        $plugin->afterGrantPermissions($service, null, '9', ['Magento_Customer::manage']);
        $plugin->afterGrantAllPermissions($service, null, 9);
        $plugin->afterRemovePermissions($service, null, 9);
        $lines = $kit->jsonlLines();
        self::assertSame(['grant', 'grant_all', 'revoke_all'], array_map(fn ($l) => $l['details']['operation'], $lines));
        self::assertFalse($lines[0]['details']['all_resources']);
        self::assertSame(['Magento_Customer::manage'], $lines[0]['details']['resources']);
        self::assertTrue($lines[1]['details']['all_resources']);
        self::assertSame([9], $lines[2]['entity_ids']);
    }
}
