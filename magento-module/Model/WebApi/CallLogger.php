<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\WebApi;

use LeakGuard\Connector\Model\ActionLog\JsonlWriter;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Db\ConnectionInterface;
use Psr\Log\LoggerInterface;

/**
 * Writes one Web API call to `leakguard_webapi_log` and var/log/leakguard/webapi_calls.jsonl.
 * Never raises into the API response.
 */
class CallLogger
{
    public const TABLE = 'leakguard_webapi_log';

    public function __construct(
        private readonly Config $config,
        private readonly ConnectionInterface $db,
        private readonly JsonlWriter $jsonlWriter,
        private readonly LoggerInterface $logger
    ) {
    }

    /**
     * @param array<string, mixed> $entry see README "Web API call log"
     */
    public function log(array $entry): void
    {
        try {
            $this->db->execute(
                'INSERT INTO ' . $this->db->table(self::TABLE) . ' (occurred_at, caller_type, caller_id, http_method,'
                . ' route, service_class, service_method, acl_resources, page_size, result_count, status, duration_ms,'
                . ' ip, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                [
                    (new \DateTimeImmutable($entry['ts']))->format('Y-m-d H:i:s'), $entry['caller_type'],
                    $entry['caller_id'], $entry['method'], $entry['route'], $entry['service_class'],
                    $entry['service_method'], json_encode($entry['acl_resources']), $entry['page_size'],
                    $entry['result_count'], $entry['status'], $entry['duration_ms'], $entry['ip'], $entry['request_id'],
                ]
            );
            if ($this->config->isJsonlLogEnabled()) {
                $this->jsonlWriter->append(JsonlWriter::WEBAPI_FILE, $entry);
            }
        } catch (\Throwable $e) {
            $this->logger->warning('LeakGuard could not record a Web API call.', ['error' => get_class($e)]);
        }
    }
}
