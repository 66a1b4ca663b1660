<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model;

/**
 * The module's only source of wall-clock time, so tests and retention cut-offs use one injectable clock.
 */
class Clock
{
    public function now(): \DateTimeImmutable
    {
        return new \DateTimeImmutable('now', new \DateTimeZone('UTC'));
    }

    public function unix(): int
    {
        return $this->now()->getTimestamp();
    }
}
