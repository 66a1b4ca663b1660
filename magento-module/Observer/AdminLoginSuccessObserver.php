<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Observer;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;

/**
 * backend_auth_user_login_success: data `user`. Only the id and username are read from the event.
 */
class AdminLoginSuccessObserver implements ObserverInterface
{
    private Recorder $recorder;

    public function __construct(Recorder $recorder)
    {
        $this->recorder = $recorder;
    }

    public function execute(Observer $observer)
    {
        $user = $observer->getEvent()->getData('user');
        $id = is_object($user) && $user->getId() !== null ? (int) $user->getId() : null;
        $this->recorder->record('admin_login_success', [
            'admin_user_id' => $id,
            'admin_username' => is_object($user) ? (string) $user->getUserName() : null,
            'entity_type' => 'admin_user',
            'entity_ids' => $id === null ? [] : [$id],
        ]);
    }
}
