<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Observer;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;

/**
 * backend_auth_user_login_failed: data `user_name` and `exception`. Records the attempted username and the
 * exception class only (never the request body, which holds the password).
 */
class AdminLoginFailedObserver implements ObserverInterface
{
    private Recorder $recorder;

    public function __construct(Recorder $recorder)
    {
        $this->recorder = $recorder;
    }

    public function execute(Observer $observer)
    {
        $event = $observer->getEvent();
        $username = $event->getData('user_name');
        $exception = $event->getData('exception');
        $this->recorder->record('admin_login_failure', [
            'admin_user_id' => null,
            'admin_username' => is_scalar($username) ? (string) $username : null,
            'entity_type' => 'admin_user',
            'result' => Recorder::RESULT_FAILURE,
            'details' => ['reason' => is_object($exception) ? get_class($exception) : null],
        ]);
    }
}
