<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Cron;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Retention\RetentionService;

/** Nightly, when enabled: apply the server's retention policy and report the counts. */
class RetentionRun
{
    public function __construct(private readonly Config $config, private readonly RetentionService $service)
    {
    }

    public function execute(): void
    {
        if ($this->config->isEnrolled() && $this->config->isRetentionEnabled()) {
            $this->service->run(false);
        }
    }
}
