<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Transport\ServerClient;

/**
 * Fetches the tenant's retention policy, applies it, and reports the counts back (real runs only).
 */
class RetentionService
{
    public function __construct(
        private readonly ServerClient $client,
        private readonly Executor $executor,
        private readonly Config $config
    ) {
    }

    /**
     * @return array{report: array<string, mixed>, delivered: bool}
     */
    public function run(bool $dryRun): array
    {
        $policy = Policy::fromJson($this->client->send('GET', ServerClient::PATH_RETENTION_POLICY)->body);
        $this->executor->setBatchSize($this->config->getRetentionBatchSize());
        $report = $this->executor->run($policy, $dryRun);
        $report['module_version'] = Config::MODULE_VERSION;
        $delivered = !$dryRun && $this->client->deliver(ServerClient::PATH_RETENTION_REPORTS, $report);
        return ['report' => $report, 'delivered' => $delivered];
    }
}
