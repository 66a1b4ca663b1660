<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Plugin\Backend\Model;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use Magento\Backend\Model\Auth;

/**
 * Records admin logout, which dispatches no event: the user is read before the session is cleared.
 */
class AuthPlugin
{
    private Recorder $recorder;
    /** @var array{id: int|null, username: string|null}|null */
    private ?array $loggingOut = null;

    public function __construct(Recorder $recorder)
    {
        $this->recorder = $recorder;
    }

    public function beforeLogout(Auth $subject): void
    {
        $user = $subject->getUser();
        $this->loggingOut = $user === null ? null : [
            'id' => $user->getId() === null ? null : (int) $user->getId(),
            'username' => $user->getUserName() === null ? null : (string) $user->getUserName(),
        ];
    }

    public function afterLogout(Auth $subject, $result)
    {
        if ($this->loggingOut !== null) {
            $this->recorder->record('logout', [
                'admin_user_id' => $this->loggingOut['id'],
                'admin_username' => $this->loggingOut['username'],
                'entity_type' => 'admin_user',
                'entity_ids' => $this->loggingOut['id'] === null ? [] : [$this->loggingOut['id']],
            ]);
            $this->loggingOut = null;
        }
        return $result;
    }
}
