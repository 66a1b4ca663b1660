<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Sso;

use LeakGuard\Connector\Model\Clock;
use LeakGuard\Connector\Model\Config;

/**
 * Builds {server}/console/sso?token=<jwt> for the current admin. The JWT is HS256 with the tenant secret;
 * claims iss (store base URL), aud "leakguard-console", sub (admin user id), name, role, iat, exp = iat + 60, jti.
 */
class ConsoleLinkBuilder
{
    public const AUDIENCE = 'leakguard-console';
    public const LIFETIME_SECONDS = 60;

    public function __construct(
        private readonly Config $config,
        private readonly Jwt $jwt,
        private readonly Clock $clock
    ) {
    }

    /**
     * @throws \RuntimeException when the shop is not enrolled
     */
    public function build(int $adminUserId, string $username, string $role): string
    {
        if (!$this->config->isEnrolled()) {
            throw new \RuntimeException('this shop is not enrolled with LeakGuard');
        }
        $issuedAt = $this->clock->unix();
        $token = $this->jwt->encode([
            'iss' => $this->config->getBaseUrl(),
            'aud' => self::AUDIENCE,
            'sub' => (string) $adminUserId,
            'name' => $username,
            'role' => $role,
            'iat' => $issuedAt,
            'exp' => $issuedAt + self::LIFETIME_SECONDS,
            'jti' => bin2hex(random_bytes(16)),
        ], $this->config->getSharedSecret());
        return $this->config->getServerUrl() . '/console/sso?token=' . rawurlencode($token);
    }
}
