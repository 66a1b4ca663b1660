<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Observer;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;

/**
 * authorization_roles_save_after / authorization_roles_delete_after (data `data_object`, the role model).
 * Covers admin groups (role_type G), their user links (role_type U, user_type 2) and integration roles
 * (user_type 1).
 */
class RoleChangeObserver implements ObserverInterface
{
    private Recorder $recorder;

    public function __construct(Recorder $recorder)
    {
        $this->recorder = $recorder;
    }

    public function execute(Observer $observer)
    {
        $event = $observer->getEvent();
        $role = $event->getData('data_object') ?? $event->getData('object');
        if (!is_object($role) || !method_exists($role, 'getData')) {
            return;
        }
        $details = ['operation' => str_ends_with((string) $event->getName(), 'delete_after') ? 'delete' : 'save'];
        foreach (['role_name', 'role_type', 'user_type', 'user_id', 'parent_id'] as $field) {
            $value = $role->getData($field);
            if ($value !== null && is_scalar($value)) {
                $details[$field] = $value;
            }
        }
        $resources = $role->getData('resource');
        if (is_array($resources)) {
            $details['resources'] = array_slice(array_values(array_filter($resources, 'is_string')), 0, 40);
            $details['resource_count'] = count($resources);
        }
        $id = $role->getData('role_id') ?? (method_exists($role, 'getId') ? $role->getId() : null);
        $this->recorder->record('role_change', [
            'entity_type' => 'authorization_role',
            'entity_ids' => $id === null ? [] : [(int) $id],
            'details' => $details,
        ]);
    }
}
