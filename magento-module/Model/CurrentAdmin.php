<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model;

use Magento\Backend\Model\Auth\Session as AuthSession;
use Magento\Framework\App\State;

/**
 * The admin user of the current request, if any. The backend session is only touched in the adminhtml area
 * (di.xml injects its proxy), so CLI, cron and API code paths never start an admin session.
 */
class CurrentAdmin
{
    private State $appState;
    private AuthSession $authSession;

    public function __construct(State $appState, AuthSession $authSession)
    {
        $this->appState = $appState;
        $this->authSession = $authSession;
    }

    /**
     * @return array{id: int, username: string}|null
     */
    public function get(): ?array
    {
        try {
            if ($this->appState->getAreaCode() !== 'adminhtml') {
                return null;
            }
        } catch (\Throwable $e) {
            return null;
        }
        $user = $this->authSession->getUser();
        if ($user === null || $user->getId() === null) {
            return null;
        }
        return ['id' => (int) $user->getId(), 'username' => (string) $user->getUserName()];
    }
}
