<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Observer;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;

/**
 * admin_user_authenticate_after in the webapi_rest area: an admin token requested with a username and password
 * (POST /V1/integration/admin/token). The event data also holds the plaintext `password`: only `username`,
 * `result` and the user's id are read.
 */
class AdminApiAuthenticateObserver implements ObserverInterface
{
    private Recorder $recorder;

    public function __construct(Recorder $recorder)
    {
        $this->recorder = $recorder;
    }

    public function execute(Observer $observer)
    {
        $event = $observer->getEvent();
        $success = (bool) $event->getData('result');
        $user = $event->getData('user');
        $id = $success && is_object($user) && $user->getId() !== null ? (int) $user->getId() : null;
        $username = $event->getData('username');
        $this->recorder->record($success ? 'admin_login_success' : 'admin_login_failure', [
            'admin_user_id' => $id,
            'admin_username' => is_scalar($username) ? (string) $username : null,
            'action' => 'webapi_admin_token',
            'entity_type' => 'admin_user',
            'entity_ids' => $id === null ? [] : [$id],
            'result' => $success ? Recorder::RESULT_SUCCESS : Recorder::RESULT_FAILURE,
            'details' => ['channel' => 'rest_admin_token'],
        ]);
    }
}
