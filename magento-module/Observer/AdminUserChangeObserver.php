<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Observer;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;

/**
 * admin_user_save_after / admin_user_delete_after (data `data_object`, the user model).
 *
 * Records which fields changed by name, and whether the password changed, but no password, hash, reset
 * token or other value of a secret field: the user model holds the plaintext password during save.
 */
class AdminUserChangeObserver implements ObserverInterface
{
    private const DESCRIPTIVE_FIELDS = ['username', 'email', 'firstname', 'lastname', 'is_active', 'interface_locale'];
    private const PASSWORD_FIELDS = ['password', 'new_password', 'password_confirmation', 'current_password'];
    private const IGNORED_FIELDS = ['modified', 'extra', 'reload_acl_flag', 'logdate', 'lognum', 'rp_token_created_at'];

    private Recorder $recorder;

    public function __construct(Recorder $recorder)
    {
        $this->recorder = $recorder;
    }

    public function execute(Observer $observer)
    {
        $event = $observer->getEvent();
        $user = $event->getData('data_object') ?? $event->getData('object') ?? $event->getData('user');
        if (!is_object($user)) {
            return;
        }
        $operation = str_ends_with((string) $event->getName(), 'delete_after') ? 'delete' : 'save';
        $data = method_exists($user, 'getData') ? (array) $user->getData() : [];
        $orig = method_exists($user, 'getOrigData') ? (array) ($user->getOrigData() ?? []) : [];

        $changed = [];
        $passwordChanged = false;
        foreach ($data as $field => $value) {
            if (!is_string($field) || in_array($field, self::IGNORED_FIELDS, true) || is_array($value) || is_object($value)) {
                continue;
            }
            if (array_key_exists($field, $orig) && (string) $orig[$field] === (string) $value) {
                continue;
            }
            if (in_array($field, self::PASSWORD_FIELDS, true)) {
                $passwordChanged = $passwordChanged || ($value !== null && $value !== '');
                continue;
            }
            if ($orig !== [] || $operation === 'save') {
                $changed[] = $field;
            }
        }
        $details = ['operation' => $operation, 'password_changed' => $passwordChanged];
        if ($orig === [] && $operation === 'save') {
            $details['operation'] = 'create';
        }
        foreach (self::DESCRIPTIVE_FIELDS as $field) {
            if (isset($data[$field]) && is_scalar($data[$field])) {
                $details[$field] = $data[$field];
            }
        }
        $details['changed_fields'] = array_values(array_diff($changed, self::PASSWORD_FIELDS));
        $id = method_exists($user, 'getId') && $user->getId() !== null ? (int) $user->getId() : null;
        $this->recorder->record('admin_user_change', [
            'entity_type' => 'admin_user',
            'entity_ids' => $id === null ? [] : [$id],
            'details' => $details,
        ]);
    }
}
