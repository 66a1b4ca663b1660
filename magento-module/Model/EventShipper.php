<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Transport\ServerClient;
use LeakGuard\Connector\Model\WebApi\CallLogger;

/**
 * Sends new admin-action and Web API log rows to POST /api/v1/magento/events as {"events": [...]}.
 *
 * Rows are marked shipped once the server took them or they sit in the outbound queue; a crash in between
 * sends them twice, which the server absorbs by de-duplicating on (source, source_id).
 */
class EventShipper
{
    public const BATCH = 500;

    public function __construct(
        private readonly ConnectionInterface $db,
        private readonly ServerClient $client
    ) {
    }

    /**
     * @return int number of events handed over
     */
    public function ship(int $limit = self::BATCH): int
    {
        $admin = $this->db->fetchAll(
            'SELECT * FROM ' . $this->db->table(Recorder::TABLE) . ' WHERE shipped = 0 ORDER BY log_id LIMIT ' . max(1, $limit)
        );
        $webapi = $this->db->fetchAll(
            'SELECT * FROM ' . $this->db->table(CallLogger::TABLE) . ' WHERE shipped = 0 ORDER BY log_id LIMIT ' . max(1, $limit)
        );
        if ($admin === [] && $webapi === []) {
            return 0;
        }
        $events = array_merge(
            array_map([$this, 'adminEvent'], $admin),
            array_map([$this, 'webApiEvent'], $webapi)
        );
        $this->client->deliver(ServerClient::PATH_EVENTS, ['events' => $events]);
        $this->markShipped(Recorder::TABLE, array_column($admin, 'log_id'));
        $this->markShipped(CallLogger::TABLE, array_column($webapi, 'log_id'));
        return count($events);
    }

    /** @return array<string, mixed> */
    public function adminEvent(array $row): array
    {
        $ids = json_decode((string) $row['entity_ids'], true);
        $details = json_decode((string) $row['details'], true);
        return [
            'source' => 'admin_action',
            'source_id' => (int) $row['log_id'],
            'ts' => $this->rfc3339((string) $row['occurred_at']),
            'admin_user_id' => $row['admin_user_id'] === null ? null : (int) $row['admin_user_id'],
            'admin_username' => $row['admin_username'],
            'ip' => $row['ip'],
            'forwarded_ip' => $row['forwarded_ip'],
            'action' => $row['action'],
            'event' => $row['event'],
            'entity_type' => $row['entity_type'],
            'entity_ids' => is_array($ids) ? $ids : [],
            'count' => $row['entity_count'] === null ? null : (int) $row['entity_count'],
            'result' => $row['result'],
            'request_id' => $row['request_id'],
            'details' => Recorder::jsonDetails(is_array($details) ? $details : []),
        ];
    }

    /** @return array<string, mixed> */
    public function webApiEvent(array $row): array
    {
        $acl = json_decode((string) $row['acl_resources'], true);
        return [
            'source' => 'webapi_call',
            'source_id' => (int) $row['log_id'],
            'ts' => $this->rfc3339((string) $row['occurred_at']),
            'event' => 'webapi_call',
            'caller_type' => $row['caller_type'],
            'caller_id' => $row['caller_id'] === null ? null : (int) $row['caller_id'],
            'method' => $row['http_method'],
            'route' => $row['route'],
            'service_class' => $row['service_class'],
            'service_method' => $row['service_method'],
            'acl_resources' => is_array($acl) ? $acl : [],
            'page_size' => $row['page_size'] === null ? null : (int) $row['page_size'],
            'result_count' => $row['result_count'] === null ? null : (int) $row['result_count'],
            'status' => (int) $row['status'],
            'duration_ms' => (int) $row['duration_ms'],
            'ip' => $row['ip'],
            'request_id' => $row['request_id'],
        ];
    }

    private function markShipped(string $table, array $ids): void
    {
        $ids = array_map('intval', $ids);
        if ($ids === []) {
            return;
        }
        $this->db->execute(
            'UPDATE ' . $this->db->table($table) . ' SET shipped = 1 WHERE log_id IN (' . implode(',', array_fill(0, count($ids), '?')) . ')',
            $ids
        );
    }

    private function rfc3339(string $dbTime): string
    {
        return (new \DateTimeImmutable($dbTime, new \DateTimeZone('UTC')))->format('Y-m-d\TH:i:s\Z');
    }
}
