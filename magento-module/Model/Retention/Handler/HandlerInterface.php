<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention\Handler;

use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Retention\BatchResult;
use LeakGuard\Connector\Model\Retention\PolicyClass;

/**
 * One retention data class: the table it walks by primary key and what it clears in one key range.
 *
 * processBatch() runs inside the executor's transaction; it must touch only rows with
 * $fromId <= pk <= $toId and must select nothing it will not change, so a second run changes and counts nothing.
 */
interface HandlerInterface
{
    public function className(): string;

    /** Logical Magento table name (without prefix). */
    public function table(): string;

    public function primaryKey(): string;

    /**
     * @return string|null why this policy entry cannot be applied (unknown anchor or action), or null when it can
     */
    public function validate(PolicyClass $policyClass): ?string;

    public function processBatch(
        ConnectionInterface $db,
        PolicyClass $policyClass,
        int $fromId,
        int $toId,
        string $cutoff,
        bool $dryRun
    ): BatchResult;
}
