<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Plugin\Webapi\Controller;

use LeakGuard\Connector\Model\Clock;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\RequestContext;
use LeakGuard\Connector\Model\Sql\AttributionContext;
use LeakGuard\Connector\Model\WebApi\CallLogger;
use LeakGuard\Connector\Model\WebApi\CallState;
use Magento\Authorization\Model\UserContextInterface;
use Magento\Framework\App\RequestInterface;
use Magento\Webapi\Controller\Rest;
use Magento\Webapi\Controller\Rest\InputParamsResolver;

/**
 * Around the REST front controller (which dispatches no events): records caller type and id, route,
 * service method, ACL resources, requested page size, records returned, HTTP status and duration.
 * Also sets the SQL attribution context before the service runs.
 */
class RestPlugin
{
    private const CALLER_TYPES = [
        UserContextInterface::USER_TYPE_INTEGRATION => 'integration',
        UserContextInterface::USER_TYPE_ADMIN => 'admin',
        UserContextInterface::USER_TYPE_CUSTOMER => 'customer',
        UserContextInterface::USER_TYPE_GUEST => 'guest',
    ];

    public function __construct(
        private readonly Config $config,
        private readonly UserContextInterface $userContext,
        private readonly InputParamsResolver $inputParamsResolver,
        private readonly CallState $callState,
        private readonly CallLogger $callLogger,
        private readonly RequestContext $requestContext,
        private readonly AttributionContext $attribution,
        private readonly Clock $clock
    ) {
    }

    public function aroundDispatch(Rest $subject, callable $proceed, RequestInterface $request)
    {
        if (!$this->config->isWebApiLogEnabled() && !$this->config->isSqlAttributionEnabled()) {
            return $proceed($request);
        }
        $startedAt = $this->clock->now();
        $begin = hrtime(true);
        [$callerType, $callerId] = $this->caller();
        $this->attribution->set(
            $callerType === 'admin' ? $callerId : null,
            $callerType === 'integration' ? $callerId : null,
            $this->routePath($request),
            $this->requestContext->requestId()
        );
        $this->callState->takeResultCount();

        $response = null;
        $status = 500;
        try {
            $response = $proceed($request);
            $status = $this->status($response);
            return $response;
        } finally {
            if ($this->config->isWebApiLogEnabled()) {
                $this->write($request, $callerType, $callerId, $status, $startedAt, $begin);
            }
        }
    }

    /** @return array{0: string, 1: int|null} */
    private function caller(): array
    {
        try {
            $type = $this->userContext->getUserType();
            $id = $this->userContext->getUserId();
        } catch (\Throwable $e) {
            return ['guest', null];
        }
        return [self::CALLER_TYPES[(int) $type] ?? 'guest', $id === null ? null : (int) $id];
    }

    private function write(RequestInterface $request, string $callerType, ?int $callerId, int $status, \DateTimeImmutable $startedAt, int $begin): void
    {
        $serviceClass = $serviceMethod = $route = null;
        $aclResources = [];
        try {
            $routeInfo = $this->inputParamsResolver->getRoute();
            $serviceClass = (string) $routeInfo->getServiceClass();
            $serviceMethod = (string) $routeInfo->getServiceMethod();
            $aclResources = array_values(array_map('strval', (array) $routeInfo->getAclResources()));
            $route = method_exists($routeInfo, 'getRoutePath') ? (string) $routeInfo->getRoutePath() : null;
        } catch (\Throwable $e) {
            // Unknown route (404) or a request rejected before routing: log what the request says.
        }
        $criteria = $request->getParam('searchCriteria');
        $pageSize = is_array($criteria) && isset($criteria['pageSize']) && is_numeric($criteria['pageSize'])
            ? (int) $criteria['pageSize'] : null;
        $this->callLogger->log([
            'ts' => $startedAt->format('Y-m-d\TH:i:s\Z'),
            'event' => 'webapi_call',
            'caller_type' => $callerType,
            'caller_id' => $callerId,
            'method' => method_exists($request, 'getMethod') ? (string) $request->getMethod() : 'GET',
            'route' => $route ?: $this->routePath($request),
            'service_class' => $serviceClass,
            'service_method' => $serviceMethod,
            'acl_resources' => $aclResources,
            'page_size' => $pageSize,
            'result_count' => $this->callState->takeResultCount(),
            'status' => $status,
            'duration_ms' => (int) ((hrtime(true) - $begin) / 1_000_000),
            'ip' => $this->requestContext->ip(),
            'request_id' => $this->requestContext->requestId(),
        ]);
    }

    private function routePath(RequestInterface $request): ?string
    {
        $path = method_exists($request, 'getPathInfo') ? (string) $request->getPathInfo() : '';
        return $path === '' ? null : substr((string) preg_replace('#/\d+(?=/|$)#', '/:id', $path), 0, 255);
    }

    /**
     * The REST controller masks errors into the response; the real status is set when it is sent, so it is
     * derived from the recorded exception when there is one.
     */
    private function status($response): int
    {
        if (!is_object($response)) {
            return 500;
        }
        if (method_exists($response, 'isException') && $response->isException()) {
            $exceptions = method_exists($response, 'getException') ? (array) $response->getException() : [];
            $first = $exceptions[0] ?? null;
            if (is_object($first) && method_exists($first, 'getHttpCode')) {
                return (int) $first->getHttpCode();
            }
            return 500;
        }
        if (method_exists($response, 'getHttpResponseCode')) {
            return (int) $response->getHttpResponseCode();
        }
        return method_exists($response, 'getStatusCode') ? (int) $response->getStatusCode() : 200;
    }
}
