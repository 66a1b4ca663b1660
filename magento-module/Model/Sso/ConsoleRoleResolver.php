<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Sso;

use Magento\Framework\AuthorizationInterface;

/**
 * Maps the admin's Magento ACL to a LeakGuard console role: console_admin -> admin, console_review -> analyst,
 * console -> viewer, none -> null (the console is refused inside Magento).
 */
class ConsoleRoleResolver
{
    public const RESOURCE_ADMIN = 'LeakGuard_Connector::console_admin';
    public const RESOURCE_REVIEW = 'LeakGuard_Connector::console_review';
    public const RESOURCE_VIEW = 'LeakGuard_Connector::console';

    public function resolve(AuthorizationInterface $authorization): ?string
    {
        if ($authorization->isAllowed(self::RESOURCE_ADMIN)) {
            return 'admin';
        }
        if ($authorization->isAllowed(self::RESOURCE_REVIEW)) {
            return 'analyst';
        }
        if ($authorization->isAllowed(self::RESOURCE_VIEW)) {
            return 'viewer';
        }
        return null;
    }
}
