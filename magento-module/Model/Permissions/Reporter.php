<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Permissions;

use LeakGuard\Connector\Model\Transport\ServerClient;

/**
 * Builds the permission snapshot and sends it to POST /api/v1/magento/permission-snapshots (queued if down).
 */
class Reporter
{
    public function __construct(
        private readonly SnapshotBuilder $builder,
        private readonly ServerClient $client
    ) {
    }

    /**
     * @return array{snapshot: array<string, mixed>, delivered: bool}
     */
    public function report(bool $send = true): array
    {
        $snapshot = $this->builder->build();
        $delivered = $send && $this->client->deliver(ServerClient::PATH_PERMISSION_SNAPSHOTS, $snapshot);
        return ['snapshot' => $snapshot, 'delivered' => $delivered];
    }
}
