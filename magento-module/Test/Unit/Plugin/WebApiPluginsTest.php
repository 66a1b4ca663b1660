<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Plugin;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Sql\AttributionContext;
use LeakGuard\Connector\Model\Sql\CommentFormatter;
use LeakGuard\Connector\Model\WebApi\CallLogger;
use LeakGuard\Connector\Model\WebApi\CallState;
use LeakGuard\Connector\Plugin\Framework\Webapi\ServiceOutputProcessorPlugin;
use LeakGuard\Connector\Plugin\Webapi\Controller\RestPlugin;
use LeakGuard\Connector\Test\Support\TestKit;
use Magento\Authorization\Model\UserContextInterface;
use Magento\Framework\App\Request\Http;
use Magento\Framework\Webapi\Exception as WebapiException;
use Magento\Framework\Webapi\Rest\Response;
use Magento\Framework\Webapi\ServiceOutputProcessor;
use Magento\Webapi\Controller\Rest;
use Magento\Webapi\Controller\Rest\InputParamsResolver;
use Magento\Webapi\Controller\Rest\Router\Route;
use PHPUnit\Framework\TestCase;

class WebApiPluginsTest extends TestCase
{
    private function userContext(?int $type, ?int $id): UserContextInterface
    {
        return new class ($type, $id) implements UserContextInterface {
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
    }

    /** @return array{0: RestPlugin, 1: CallState, 2: AttributionContext} */
    private function plugin(TestKit $kit, Http $request, UserContextInterface $user, ?Route $route): array
    {
        $state = new CallState();
        $attribution = new AttributionContext(new CommentFormatter());
        $plugin = new RestPlugin(
            $kit->config,
            $user,
            new InputParamsResolver($route),
            $state,
            new CallLogger($kit->config, $kit->db, $kit->jsonl(), $kit->logger),
            $kit->requestContext($request),
            $attribution,
            $kit->clock
        );
        return [$plugin, $state, $attribution];
    }

    public function test_an_integration_listing_customers_is_logged_with_page_size_and_result_count(): void
    {
        $kit = new TestKit();
        $request = new Http('', ['searchCriteria' => ['pageSize' => '1000', 'currentPage' => '1']], ['X-Request-Id' => 'req-api-000001'], [], 'GET', '/V1/customers/search');
        $route = new Route('Magento\Customer\Api\CustomerRepositoryInterface', 'getList', ['Magento_Customer::customer'], '/V1/customers/search');
        [$plugin, $state, $attribution] = $this->plugin($kit, $request, $this->userContext(UserContextInterface::USER_TYPE_INTEGRATION, 5), $route);
        $outputPlugin = new ServiceOutputProcessorPlugin($state);

        $response = $plugin->aroundDispatch(new Rest(), function () use ($outputPlugin, $state, $attribution) {
            self::assertSame("/*lg_integration='5',lg_route='%2FV1%2Fcustomers%2Fsearch',lg_req='req-api-000001'*/", $attribution->comment());
            $result = ['items' => array_fill(0, 250, ['id' => 1]), 'total_count' => 9000];
            $outputPlugin->afterProcess(new ServiceOutputProcessor(), $result);
            return new Response();
        }, $request);

        self::assertInstanceOf(Response::class, $response);
        $line = $kit->jsonlLines('webapi_calls.jsonl')[0];
        self::assertSame('webapi_call', $line['event']);
        self::assertSame('integration', $line['caller_type']);
        self::assertSame(5, $line['caller_id']);
        self::assertSame('GET', $line['method']);
        self::assertSame('/V1/customers/search', $line['route']);
        self::assertSame('Magento\Customer\Api\CustomerRepositoryInterface', $line['service_class']);
        self::assertSame('getList', $line['service_method']);
        self::assertSame(['Magento_Customer::customer'], $line['acl_resources']);
        self::assertSame(1000, $line['page_size']);
        self::assertSame(250, $line['result_count']);
        self::assertSame(200, $line['status']);
        self::assertSame('req-api-000001', $line['request_id']);
        $row = $kit->db->fetchAll('SELECT * FROM leakguard_webapi_log')[0];
        self::assertSame('integration', $row['caller_type']);
        self::assertSame(250, (int) $row['result_count']);
    }

    public function test_a_masked_error_is_logged_with_the_status_of_the_exception(): void
    {
        $kit = new TestKit();
        $request = new Http('', [], [], [], 'GET', '/V1/orders/15');
        [$plugin] = $this->plugin($kit, $request, $this->userContext(UserContextInterface::USER_TYPE_ADMIN, 3), null);
        $plugin->aroundDispatch(new Rest(), function () {
            return (new Response())->setException(new WebapiException('Not allowed', 0, 401));
        }, $request);
        $line = $kit->jsonlLines('webapi_calls.jsonl')[0];
        self::assertSame(401, $line['status']);
        self::assertSame('admin', $line['caller_type']);
        self::assertSame('/V1/orders/:id', $line['route']);
        self::assertNull($line['service_class']);
        self::assertNull($line['result_count']);
    }

    public function test_a_guest_call_that_throws_is_logged_as_500_and_rethrown(): void
    {
        $kit = new TestKit();
        $request = new Http('', [], [], [], 'POST', '/V1/integration/admin/token');
        [$plugin] = $this->plugin($kit, $request, $this->userContext(UserContextInterface::USER_TYPE_GUEST, null), null);
        try {
            $plugin->aroundDispatch(new Rest(), function () {
                throw new \LogicException('boom');
            }, $request);
            self::fail('must rethrow');
        } catch (\LogicException $e) {
            self::assertSame('boom', $e->getMessage());
        }
        $line = $kit->jsonlLines('webapi_calls.jsonl')[0];
        self::assertSame('guest', $line['caller_type']);
        self::assertSame(500, $line['status']);
        self::assertSame('POST', $line['method']);
    }

    public function test_nothing_is_logged_when_web_api_capture_is_off(): void
    {
        $kit = new TestKit([Config::XML_CAPTURE_WEBAPI => '0']);
        $request = new Http('', [], [], [], 'GET', '/V1/orders');
        [$plugin] = $this->plugin($kit, $request, $this->userContext(1, 5), null);
        self::assertSame('r', $plugin->aroundDispatch(new Rest(), fn () => 'r', $request));
        self::assertSame([], $kit->jsonlLines('webapi_calls.jsonl'));
        self::assertSame(0, (int) $kit->db->fetchOne('SELECT COUNT(*) FROM leakguard_webapi_log'));
    }

    public function test_result_counting_rules(): void
    {
        self::assertSame(3, CallState::count(['items' => [1, 2, 3], 'total_count' => 99]));
        self::assertSame(2, CallState::count([['id' => 1], ['id' => 2]]));
        self::assertSame(1, CallState::count(['id' => 1, 'email' => 'x']));
        self::assertSame(1, CallState::count(new \stdClass()));
        self::assertNull(CallState::count(true));
        self::assertNull(CallState::count(null));
    }
}
