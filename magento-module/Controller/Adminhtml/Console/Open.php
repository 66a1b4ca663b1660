<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Controller\Adminhtml\Console;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use LeakGuard\Connector\Model\Sso\ConsoleLinkBuilder;
use LeakGuard\Connector\Model\Sso\ConsoleRoleResolver;
use Magento\Backend\App\Action;
use Magento\Backend\App\Action\Context;
use Magento\Framework\App\Action\HttpGetActionInterface;

/**
 * System > LeakGuard > Open LeakGuard Console: redirects the current admin to the console with a 60-second
 * signed token. Admins without any LeakGuard console resource never reach this action (ADMIN_RESOURCE).
 */
class Open extends Action implements HttpGetActionInterface
{
    public const ADMIN_RESOURCE = 'LeakGuard_Connector::console';

    public function __construct(
        Context $context,
        private readonly ConsoleRoleResolver $roleResolver,
        private readonly ConsoleLinkBuilder $linkBuilder,
        private readonly Recorder $recorder
    ) {
        parent::__construct($context);
    }

    public function execute()
    {
        $redirect = $this->resultRedirectFactory->create();
        $user = $this->_auth->getUser();
        $role = $this->roleResolver->resolve($this->_authorization);
        if ($user === null || $user->getId() === null || $role === null) {
            $this->messageManager->addErrorMessage(__('You are not allowed to open the LeakGuard console.'));
            return $redirect->setPath('admin/dashboard');
        }
        try {
            $url = $this->linkBuilder->build((int) $user->getId(), (string) $user->getUserName(), $role);
        } catch (\RuntimeException $e) {
            $this->messageManager->addErrorMessage(__('LeakGuard is not connected yet: %1.', $e->getMessage()));
            return $redirect->setPath('adminhtml/system_config/edit', ['section' => 'leakguard']);
        }
        $this->recorder->record('console_sso', ['entity_type' => 'admin_user', 'entity_ids' => [(int) $user->getId()], 'details' => ['role' => $role]]);
        return $redirect->setUrl($url);
    }
}
