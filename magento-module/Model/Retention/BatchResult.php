<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention;

/**
 * What one primary-key range of one class did (or, in a dry run, would do).
 */
class BatchResult
{
    /**
     * @param list<int> $affectedIds ascending
     * @param array<string, int> $alerts alert code => rows
     */
    public function __construct(
        public readonly array $affectedIds,
        public readonly array $alerts = [],
        public readonly int $undecodable = 0
    ) {
    }
}
