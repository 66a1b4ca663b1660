<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Model;

use LeakGuard\Connector\Model\ActionLog\ActionClassifier;
use LeakGuard\Connector\Model\Sql\AttributionContext;
use LeakGuard\Connector\Model\Sql\CommentFormatter;
use LeakGuard\Connector\Observer\AdminLoginFailedObserver;
use LeakGuard\Connector\Plugin\Backend\App\AbstractActionPlugin;
use LeakGuard\Connector\Test\Support\TestKit;
use Magento\Backend\App\AbstractAction;
use Magento\Framework\App\Request\Http;
use Magento\Framework\Event;
use Magento\Framework\Event\Observer;
use PHPUnit\Framework\TestCase;

/**
 * Test/fixtures/admin_actions.sample.jsonl is what the module writes for a few typical admin actions; the host
 * agent's parser tests read the same file. Regenerate with LEAKGUARD_UPDATE_FIXTURES=1 after a deliberate change.
 */
class GoldenJsonlTest extends TestCase
{
    public function test_the_sample_file_matches_what_the_recorder_writes(): void
    {
        $kit = new TestKit();
        $headers = ['X-Forwarded-For' => '198.51.100.4', 'X-Request-Id' => 'req-sample-0001'];
        $action = new class extends AbstractAction {
            public function execute()
            {
                return null;
            }
        };
        $steps = [
            ['mui_export_gridToCsv', ['namespace' => 'customer_listing', 'filters' => ['placeholder' => 'true'], 'search' => '', 'selected' => 'false', 'excluded' => 'false']],
            ['customer_index_edit', ['id' => '42']],
            ['adminhtml_export_export', ['entity' => 'customer', 'file_format' => 'csv', 'export_filter' => ['email' => '']]],
            ['sales_order_massCancel', ['selected' => ['100', '101'], 'namespace' => 'sales_order_grid']],
        ];
        foreach ($steps as $i => [$name, $params]) {
            $request = new Http($name, $params, ['X-Request-Id' => 'req-sample-000' . ($i + 2)] + $headers);
            $context = $kit->requestContext($request);
            (new AbstractActionPlugin(new ActionClassifier(), $kit->recorder($context), $kit->config, $kit->currentAdmin(), $context, new AttributionContext(new CommentFormatter())))
                ->aroundDispatch($action, fn () => null, $request);
            $kit->clock->advance(7);
        }
        $login = new Http('adminhtml_auth_login', [], $headers);
        (new AdminLoginFailedObserver($kit->recorder($kit->requestContext($login))))->execute(
            new Observer(['event' => new Event(['user_name' => 'admin', 'exception' => new \RuntimeException('x'), 'password' => 'hunter2'])])
        );

        $written = (string) file_get_contents($kit->root . '/var/log/leakguard/admin_actions.jsonl');
        $fixture = dirname(__DIR__, 2) . '/fixtures/admin_actions.sample.jsonl';
        if (getenv('LEAKGUARD_UPDATE_FIXTURES') === '1') {
            file_put_contents($fixture, $written);
        }
        self::assertSame((string) file_get_contents($fixture), $written);
        self::assertSame(5, substr_count($written, "\n"));
        self::assertStringNotContainsString('hunter2', $written);
    }

    public function test_the_web_api_sample_file_matches_what_the_rest_plugin_writes(): void
    {
        $kit = new TestKit();
        $calls = [
            [1, 5, 'GET', '/V1/customers/search', ['searchCriteria' => ['pageSize' => '1000']], new \Magento\Webapi\Controller\Rest\Router\Route('Magento\Customer\Api\CustomerRepositoryInterface', 'getList', ['Magento_Customer::customer'], '/V1/customers/search'), ['items' => array_fill(0, 1000, ['id' => 1])]],
            [2, 3, 'GET', '/V1/orders/15', [], new \Magento\Webapi\Controller\Rest\Router\Route('Magento\Sales\Api\OrderRepositoryInterface', 'get', ['Magento_Sales::actions_view'], '/V1/orders/:id'), ['entity_id' => 15]],
            [4, null, 'POST', '/V1/integration/admin/token', [], null, null],
        ];
        foreach ($calls as $i => [$type, $id, $method, $path, $params, $route, $result]) {
            $request = new Http('', $params, ['X-Request-Id' => 'req-api-000' . ($i + 1)], [], $method, $path);
            $user = new class ($type, $id) implements \Magento\Authorization\Model\UserContextInterface {
                public function __construct(private ?int $type, private ?int $id)
                {
                }

                public function getUserId()
                {
                    return $this->id;
                }

                public function getUserType()
                {
                    return $this->type;
                }
            };
            $state = new \LeakGuard\Connector\Model\WebApi\CallState();
            $plugin = new \LeakGuard\Connector\Plugin\Webapi\Controller\RestPlugin(
                $kit->config, $user, new \Magento\Webapi\Controller\Rest\InputParamsResolver($route), $state,
                new \LeakGuard\Connector\Model\WebApi\CallLogger($kit->config, $kit->db, $kit->jsonl(), $kit->logger),
                $kit->requestContext($request), new AttributionContext(new CommentFormatter()), $kit->clock
            );
            $plugin->aroundDispatch(new \Magento\Webapi\Controller\Rest(), function () use ($state, $result) {
                $response = new \Magento\Framework\Webapi\Rest\Response();
                if ($result === null) {
                    return $response->setException(new \Magento\Framework\Webapi\Exception('The account sign-in was incorrect', 0, 401));
                }
                $state->setResultCount(\LeakGuard\Connector\Model\WebApi\CallState::count($result));
                return $response;
            }, $request);
            $kit->clock->advance(3);
        }
        $written = (string) preg_replace('/"duration_ms":\d+/', '"duration_ms":0', (string) file_get_contents($kit->root . '/var/log/leakguard/webapi_calls.jsonl'));
        $fixture = dirname(__DIR__, 2) . '/fixtures/webapi_calls.sample.jsonl';
        if (getenv('LEAKGUARD_UPDATE_FIXTURES') === '1') {
            file_put_contents($fixture, $written);
        }
        self::assertSame((string) file_get_contents($fixture), $written);
        self::assertSame(3, substr_count($written, "\n"));
    }
}
