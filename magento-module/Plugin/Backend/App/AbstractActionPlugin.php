<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Plugin\Backend\App;

use LeakGuard\Connector\Model\ActionLog\ActionClassifier;
use LeakGuard\Connector\Model\ActionLog\Recorder;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\CurrentAdmin;
use LeakGuard\Connector\Model\RequestContext;
use LeakGuard\Connector\Model\Sql\AttributionContext;
use Magento\Backend\App\AbstractAction;
use Magento\Framework\App\RequestInterface;

/**
 * Around every admin controller dispatch: records exports, record views and mass actions with their outcome
 * (success, failure on exception, denied when the ACL check refused), records any other denied action, and
 * sets the SQL attribution context (admin, route, request id) for the queries the action runs.
 *
 * An around plugin is used because the outcome is only known after the action, including when it throws.
 */
class AbstractActionPlugin
{
    private ActionClassifier $classifier;
    private Recorder $recorder;
    private Config $config;
    private CurrentAdmin $currentAdmin;
    private RequestContext $requestContext;
    private AttributionContext $attribution;

    public function __construct(
        ActionClassifier $classifier,
        Recorder $recorder,
        Config $config,
        CurrentAdmin $currentAdmin,
        RequestContext $requestContext,
        AttributionContext $attribution
    ) {
        $this->classifier = $classifier;
        $this->recorder = $recorder;
        $this->config = $config;
        $this->currentAdmin = $currentAdmin;
        $this->requestContext = $requestContext;
        $this->attribution = $attribution;
    }

    public function aroundDispatch(AbstractAction $subject, callable $proceed, RequestInterface $request)
    {
        $fullActionName = method_exists($request, 'getFullActionName') ? (string) $request->getFullActionName() : '';
        $admin = $this->currentAdmin->get();
        $this->attribution->set($admin['id'] ?? null, null, $fullActionName, $this->requestContext->requestId());

        if (!$this->config->isAdminActionLogEnabled()) {
            return $proceed($request);
        }
        $classification = $this->classifier->classify($fullActionName, $request);
        $originalAction = $request->getActionName();
        try {
            $result = $proceed($request);
        } catch (\Throwable $e) {
            if ($classification !== null) {
                $this->write($fullActionName, $classification, Recorder::RESULT_FAILURE, ['error' => get_class($e)]);
            }
            throw $e;
        }
        if ($this->wasDenied($subject, $request, $originalAction)) {
            $this->write(
                $fullActionName,
                $classification ?? ['event' => 'access_denied', 'entity_type' => null, 'details' => []],
                Recorder::RESULT_DENIED
            );
        } elseif ($classification !== null) {
            $this->write($fullActionName, $classification, Recorder::RESULT_SUCCESS);
        }
        return $result;
    }

    private function wasDenied(AbstractAction $subject, RequestInterface $request, ?string $originalAction): bool
    {
        if ($originalAction !== 'denied' && $request->getActionName() === 'denied') {
            return true;
        }
        if (!method_exists($subject, 'getResponse')) {
            return false;
        }
        $response = $subject->getResponse();
        $status = null;
        if (is_object($response) && method_exists($response, 'getHttpResponseCode')) {
            $status = (int) $response->getHttpResponseCode();
        } elseif (is_object($response) && method_exists($response, 'getStatusCode')) {
            $status = (int) $response->getStatusCode();
        }
        return $status === 403;
    }

    private function write(string $fullActionName, array $classification, string $result, array $extra = []): void
    {
        $this->recorder->record($classification['event'], [
            'action' => $fullActionName,
            'entity_type' => $classification['entity_type'] ?? null,
            'entity_ids' => $classification['entity_ids'] ?? [],
            'count' => $classification['count'] ?? null,
            'result' => $result,
            'details' => ($classification['details'] ?? []) + $extra,
        ]);
    }
}
