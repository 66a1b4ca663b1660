<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model;

use Magento\Framework\App\Request\Http as HttpRequest;
use Magento\Framework\HTTP\PhpEnvironment\RemoteAddress;

/**
 * Per-request facts every log entry carries: request id, client IP, forwarded-for chain, full action name.
 *
 * The request id is taken from an incoming X-Request-Id header when it is a plain token (so it matches the
 * web server or CDN logs), otherwise generated once per request.
 */
class RequestContext
{
    private RemoteAddress $remoteAddress;
    private HttpRequest $request;
    private ?string $requestId = null;

    public function __construct(RemoteAddress $remoteAddress, HttpRequest $request)
    {
        $this->remoteAddress = $remoteAddress;
        $this->request = $request;
    }

    public function requestId(): string
    {
        if ($this->requestId === null) {
            $incoming = $this->request->getHeader('X-Request-Id');
            $this->requestId = is_string($incoming) && preg_match('/^[A-Za-z0-9._:-]{8,64}$/', $incoming) === 1
                ? $incoming
                : bin2hex(random_bytes(16));
        }
        return $this->requestId;
    }

    public function ip(): ?string
    {
        $ip = $this->remoteAddress->getRemoteAddress();
        return is_string($ip) && $ip !== '' ? substr($ip, 0, 45) : null;
    }

    public function forwardedIp(): ?string
    {
        $header = $this->request->getHeader('X-Forwarded-For');
        if (!is_string($header) || trim($header) === '') {
            return null;
        }
        return substr(trim($header), 0, 255);
    }

    public function fullActionName(): ?string
    {
        $name = $this->request->getFullActionName();
        return is_string($name) && trim($name, '_') !== '' ? $name : null;
    }

    public function request(): HttpRequest
    {
        return $this->request;
    }
}
