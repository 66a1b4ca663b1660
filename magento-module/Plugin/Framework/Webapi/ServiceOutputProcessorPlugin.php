<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Plugin\Framework\Webapi;

use LeakGuard\Connector\Model\WebApi\CallState;
use Magento\Framework\Webapi\ServiceOutputProcessor;

/**
 * Counts the records a REST service returned (after conversion to arrays) for the Web API call log.
 */
class ServiceOutputProcessorPlugin
{
    public function __construct(private readonly CallState $callState)
    {
    }

    public function afterProcess(ServiceOutputProcessor $subject, $result, $data = null, $serviceClassName = null, $serviceMethodName = null)
    {
        $this->callState->setResultCount(CallState::count($result));
        return $result;
    }
}
