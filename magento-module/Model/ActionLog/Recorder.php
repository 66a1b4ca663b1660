<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\ActionLog;

use LeakGuard\Connector\Model\Clock;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\CurrentAdmin;
use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Redactor;
use LeakGuard\Connector\Model\RequestContext;
use Psr\Log\LoggerInterface;

/**
 * Writes admin action log entries to `leakguard_admin_action_log` and var/log/leakguard/admin_actions.jsonl.
 *
 * Entries are flat (see README "Admin action log"); `details` always passes through the {@see Redactor}.
 * Recording never breaks the admin request: a storage failure is logged (without entry contents) and swallowed.
 */
class Recorder
{
    public const TABLE = 'leakguard_admin_action_log';
    public const RESULT_SUCCESS = 'success';
    public const RESULT_FAILURE = 'failure';
    public const RESULT_DENIED = 'denied';
    /** Keys of `details` whose values are maps. */
    private const MAP_KEYS = ['filters', 'export_filter', 'values'];

    private Config $config;
    private ConnectionInterface $db;
    private JsonlWriter $jsonlWriter;
    private Redactor $redactor;
    private RequestContext $requestContext;
    private CurrentAdmin $currentAdmin;
    private Clock $clock;
    private LoggerInterface $logger;

    public function __construct(
        Config $config,
        ConnectionInterface $db,
        JsonlWriter $jsonlWriter,
        Redactor $redactor,
        RequestContext $requestContext,
        CurrentAdmin $currentAdmin,
        Clock $clock,
        LoggerInterface $logger
    ) {
        $this->config = $config;
        $this->db = $db;
        $this->jsonlWriter = $jsonlWriter;
        $this->redactor = $redactor;
        $this->requestContext = $requestContext;
        $this->currentAdmin = $currentAdmin;
        $this->clock = $clock;
        $this->logger = $logger;
    }

    /**
     * @param array{admin_user_id?: int|null, admin_username?: string|null, action?: string|null,
     *     entity_type?: string|null, entity_ids?: list<int|string>, count?: int|null, result?: string,
     *     details?: array<string, mixed>} $fields
     * @return array<string, mixed>|null the entry written, or null when capture is off or storage failed
     */
    public function record(string $event, array $fields = []): ?array
    {
        if (!$this->config->isAdminActionLogEnabled()) {
            return null;
        }
        try {
            $entry = $this->entry($event, $fields);
            $this->db->execute(
                'INSERT INTO ' . $this->db->table(self::TABLE) . ' (occurred_at, admin_user_id, admin_username, ip,'
                . ' forwarded_ip, action, event, entity_type, entity_ids, entity_count, result, request_id, details)'
                . ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                [
                    (new \DateTimeImmutable($entry['ts']))->format('Y-m-d H:i:s'),
                    $entry['admin_user_id'], $entry['admin_username'], $entry['ip'], $entry['forwarded_ip'],
                    $entry['action'], $entry['event'], $entry['entity_type'],
                    json_encode($entry['entity_ids']), $entry['count'], $entry['result'], $entry['request_id'],
                    json_encode(self::jsonDetails($entry['details']), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE),
                ]
            );
            if ($this->config->isJsonlLogEnabled()) {
                $this->jsonlWriter->append(JsonlWriter::ADMIN_ACTIONS_FILE, array_replace($entry, ['details' => self::jsonDetails($entry['details'])]));
            }
            return $entry;
        } catch (\Throwable $e) {
            $this->logger->warning('LeakGuard could not record an admin action.', [
                'event' => $event,
                'error' => get_class($e),
            ]);
            return null;
        }
    }

    /**
     * `details` and the maps inside it are JSON objects even when empty (PHP arrays would encode `[]`).
     *
     * @param array<string, mixed> $details
     */
    public static function jsonDetails(array $details): object
    {
        foreach (self::MAP_KEYS as $key) {
            if (isset($details[$key]) && $details[$key] === []) {
                $details[$key] = new \stdClass();
            }
        }
        return (object) $details;
    }

    /**
     * @return array<string, mixed>
     */
    public function entry(string $event, array $fields): array
    {
        $admin = array_key_exists('admin_user_id', $fields) ? null : $this->currentAdmin->get();
        $userId = array_key_exists('admin_user_id', $fields) ? $fields['admin_user_id'] : ($admin['id'] ?? null);
        $username = array_key_exists('admin_username', $fields)
            ? $fields['admin_username']
            : ($admin['username'] ?? null);
        $ids = array_values(array_map(
            static fn ($id) => is_numeric($id) ? (int) $id : substr((string) $id, 0, 64),
            array_slice($fields['entity_ids'] ?? [], 0, 1000)
        ));
        return [
            'ts' => $this->clock->now()->format('Y-m-d\TH:i:s\Z'),
            'admin_user_id' => $userId === null ? null : (int) $userId,
            'admin_username' => $username === null ? null : substr((string) $username, 0, 255),
            'ip' => $this->requestContext->ip(),
            'forwarded_ip' => $this->requestContext->forwardedIp(),
            'action' => (string) ($fields['action'] ?? $this->requestContext->fullActionName() ?? $event),
            'event' => $event,
            'entity_type' => $fields['entity_type'] ?? null,
            'entity_ids' => $ids,
            'count' => $fields['count'] ?? ($ids === [] ? null : count($ids)),
            'result' => $fields['result'] ?? self::RESULT_SUCCESS,
            'request_id' => $this->requestContext->requestId(),
            'details' => $this->redactor->redact($fields['details'] ?? []),
        ];
    }
}
