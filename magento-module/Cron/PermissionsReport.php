<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Cron;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Permissions\Reporter;

/** Daily: send the permission snapshot. */
class PermissionsReport
{
    public function __construct(private readonly Config $config, private readonly Reporter $reporter)
    {
    }

    public function execute(): void
    {
        if ($this->config->isEnrolled() && $this->config->isPermissionReportEnabled()) {
            $this->reporter->report();
        }
    }
}
