<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Transport;

use LeakGuard\Connector\Model\Db\ConnectionInterface;

/**
 * Requests that could not be delivered, kept in `leakguard_outbound_queue` until the server takes them.
 *
 * Messages are stored unsigned: each attempt is signed afresh (new timestamp and nonce), so a message that
 * waited hours is still inside the server's replay window when it is finally sent.
 */
class OutboundQueue
{
    public const TABLE = 'leakguard_outbound_queue';

    private ConnectionInterface $db;

    public function __construct(ConnectionInterface $db)
    {
        $this->db = $db;
    }

    public function enqueue(string $method, string $path, string $body, \DateTimeImmutable $now): int
    {
        $time = $now->format('Y-m-d H:i:s');
        $this->db->execute(
            'INSERT INTO ' . $this->db->table(self::TABLE)
            . ' (method, path, body, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, 0, ?, ?)',
            [$method, $path, $body, $time, $time]
        );
        return $this->db->lastInsertId();
    }

    /**
     * @return list<array{message_id: int, method: string, path: string, body: string, attempts: int}>
     */
    public function due(\DateTimeImmutable $now, int $limit): array
    {
        $rows = $this->db->fetchAll(
            'SELECT message_id, method, path, body, attempts FROM ' . $this->db->table(self::TABLE)
            . ' WHERE next_attempt_at <= ? ORDER BY message_id LIMIT ' . max(1, $limit),
            [$now->format('Y-m-d H:i:s')]
        );
        return array_map(static fn (array $row): array => [
            'message_id' => (int) $row['message_id'],
            'method' => (string) $row['method'],
            'path' => (string) $row['path'],
            'body' => (string) $row['body'],
            'attempts' => (int) $row['attempts'],
        ], $rows);
    }

    public function delete(int $messageId): void
    {
        $this->db->execute('DELETE FROM ' . $this->db->table(self::TABLE) . ' WHERE message_id = ?', [$messageId]);
    }

    public function reschedule(int $messageId, int $attempts, \DateTimeImmutable $next, ?int $status, string $error): void
    {
        $this->db->execute(
            'UPDATE ' . $this->db->table(self::TABLE)
            . ' SET attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ? WHERE message_id = ?',
            [$attempts, $next->format('Y-m-d H:i:s'), $status, substr($error, 0, 255), $messageId]
        );
    }

    public function size(): int
    {
        return (int) $this->db->fetchOne('SELECT COUNT(*) FROM ' . $this->db->table(self::TABLE));
    }
}
