<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Transport;

class HttpResponse
{
    public function __construct(public readonly int $status, public readonly string $body)
    {
    }

    public function isSuccess(): bool
    {
        return $this->status >= 200 && $this->status < 300;
    }

    /** Worth retrying later: server errors, throttling, timeouts, and 401 (clock skew or a key being rotated). */
    public function isRetryable(): bool
    {
        return $this->status >= 500 || in_array($this->status, [401, 408, 409, 425, 429], true) || $this->status === 0;
    }
}
