<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention;

/**
 * One entry of the server's retention policy: which data class, how old, measured from which anchor, what to do.
 */
class PolicyClass
{
    /**
     * @param list<string> $allowKeys
     */
    public function __construct(
        public readonly string $class,
        public readonly int $maxAgeDays,
        public readonly string $anchor,
        public readonly string $action,
        public readonly array $allowKeys = []
    ) {
    }
}
