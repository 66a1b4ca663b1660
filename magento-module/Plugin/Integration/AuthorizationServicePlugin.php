<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Plugin\Integration;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use Magento\Integration\Api\AuthorizationServiceInterface;

/**
 * Records ACL grants to integrations: a custom resource list, all resources, or removal of all grants.
 */
class AuthorizationServicePlugin
{
    private Recorder $recorder;

    public function __construct(Recorder $recorder)
    {
        $this->recorder = $recorder;
    }

    public function afterGrantPermissions(AuthorizationServiceInterface $subject, $result, $integrationId, $resources)
    {
        $list = array_values(array_filter((array) $resources, 'is_string'));
        $this->write((int) $integrationId, [
            'operation' => 'grant',
            'all_resources' => in_array('Magento_Backend::all', $list, true),
            'resources' => array_slice($list, 0, 40),
            'resource_count' => count($list),
        ]);
        return $result;
    }

    public function afterGrantAllPermissions(AuthorizationServiceInterface $subject, $result, $integrationId)
    {
        $this->write((int) $integrationId, ['operation' => 'grant_all', 'all_resources' => true]);
        return $result;
    }

    public function afterRemovePermissions(AuthorizationServiceInterface $subject, $result, $integrationId)
    {
        $this->write((int) $integrationId, ['operation' => 'revoke_all', 'all_resources' => false]);
        return $result;
    }

    private function write(int $integrationId, array $details): void
    {
        $this->recorder->record('integration_change', [
            'entity_type' => 'integration',
            'entity_ids' => [$integrationId],
            'details' => $details,
        ]);
    }
}
