<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Plugin\Integration;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use Magento\Integration\Api\IntegrationServiceInterface;

/**
 * Records integration create, update and delete. Only descriptive fields are kept: the integration form also
 * carries the admin's current password, and activation produces OAuth secrets.
 */
class IntegrationServicePlugin
{
    private const SAFE_FIELDS = ['name', 'email', 'endpoint', 'identity_link_url', 'status', 'setup_type', 'all_resources'];

    private Recorder $recorder;

    public function __construct(Recorder $recorder)
    {
        $this->recorder = $recorder;
    }

    public function afterCreate(IntegrationServiceInterface $subject, $integration, array $integrationData)
    {
        $this->write('create', $integration, $integrationData);
        return $integration;
    }

    public function afterUpdate(IntegrationServiceInterface $subject, $integration, array $integrationData)
    {
        $this->write('update', $integration, $integrationData);
        return $integration;
    }

    public function afterDelete(IntegrationServiceInterface $subject, $result, $integrationId)
    {
        $this->write('delete', null, is_array($result) ? $result : [], (int) $integrationId);
        return $result;
    }

    private function write(string $operation, $integration, array $data, ?int $id = null): void
    {
        if ($id === null && is_object($integration) && method_exists($integration, 'getId')) {
            $id = $integration->getId() === null ? null : (int) $integration->getId();
        }
        $id ??= isset($data['integration_id']) ? (int) $data['integration_id'] : null;
        $details = ['operation' => $operation];
        foreach (self::SAFE_FIELDS as $field) {
            $value = is_object($integration) && method_exists($integration, 'getData') ? $integration->getData($field) : null;
            $value ??= $data[$field] ?? null;
            if ($value !== null && is_scalar($value)) {
                $details[$field] = $value;
            }
        }
        if (isset($data['resource']) && is_array($data['resource'])) {
            $details['requested_resources'] = array_slice(array_values(array_filter($data['resource'], 'is_string')), 0, 40);
            $details['requested_resource_count'] = count($data['resource']);
        }
        $this->recorder->record('integration_change', [
            'entity_type' => 'integration',
            'entity_ids' => $id === null ? [] : [$id],
            'details' => $details,
        ]);
    }
}
