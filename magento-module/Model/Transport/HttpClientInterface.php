<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Transport;

/**
 * One HTTP exchange with the LeakGuard server. Implementations throw {@see TransportException} when no
 * response was received (DNS, connect, TLS, timeout); any HTTP status is returned as a response.
 */
interface HttpClientInterface
{
    /**
     * @param array<string, string> $headers
     */
    public function request(string $method, string $url, array $headers, string $body): HttpResponse;
}
