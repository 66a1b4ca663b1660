<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Transport;

/**
 * The server could not be reached or answered with an error. Messages name the endpoint and status,
 * never a secret, token or body.
 */
class TransportException extends \RuntimeException
{
    public function __construct(string $message, private readonly bool $retryable = true, ?\Throwable $previous = null)
    {
        parent::__construct($message, 0, $previous);
    }

    public function isRetryable(): bool
    {
        return $this->retryable;
    }
}
