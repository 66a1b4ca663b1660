<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Cron;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\EventShipper;

/** Every minute: hand new admin-action and Web API log rows to the server (or the retry queue). */
class ShipEvents
{
    public function __construct(private readonly Config $config, private readonly EventShipper $shipper)
    {
    }

    public function execute(): void
    {
        if ($this->config->isEnrolled()) {
            $this->shipper->ship();
        }
    }
}
