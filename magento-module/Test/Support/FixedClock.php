<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Support;

use LeakGuard\Connector\Model\Clock;

/** A clock that reads a set time, advanced only by the test. */
class FixedClock extends Clock
{
    private \DateTimeImmutable $now;

    public function __construct(string $now = '2026-11-28 12:00:00')
    {
        $this->now = new \DateTimeImmutable($now, new \DateTimeZone('UTC'));
    }

    public function now(): \DateTimeImmutable
    {
        return $this->now;
    }

    public function advance(int $seconds): void
    {
        $this->now = $this->now->modify('+' . $seconds . ' seconds');
    }
}
