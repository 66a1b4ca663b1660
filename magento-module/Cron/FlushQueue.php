<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Cron;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Transport\ServerClient;

/** Every five minutes: retry queued messages whose backoff has elapsed. */
class FlushQueue
{
    public function __construct(private readonly Config $config, private readonly ServerClient $client)
    {
    }

    public function execute(): void
    {
        if ($this->config->isEnrolled()) {
            $this->client->flush();
        }
    }
}
