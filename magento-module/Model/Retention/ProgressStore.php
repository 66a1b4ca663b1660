<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention;

use LeakGuard\Connector\Model\Db\ConnectionInterface;

/**
 * Reads and writes `leakguard_retention_progress` (one row per data class).
 */
class ProgressStore
{
    public const TABLE = 'leakguard_retention_progress';

    private ConnectionInterface $db;

    public function __construct(ConnectionInterface $db)
    {
        $this->db = $db;
    }

    public function load(string $classCode): ?ClassProgress
    {
        $rows = $this->db->fetchAll('SELECT * FROM ' . $this->db->table(self::TABLE) . ' WHERE class_code = ?', [$classCode]);
        if ($rows === []) {
            return null;
        }
        $row = $rows[0];
        $progress = new ClassProgress(
            (string) $row['class_code'],
            (string) $row['run_id'],
            (int) $row['policy_version'],
            (string) $row['cutoff'],
            (int) $row['max_id'],
            (string) $row['started_at']
        );
        $progress->status = (string) $row['status'];
        $progress->lastId = (int) $row['last_id'];
        $progress->rowsAffected = (int) $row['rows_affected'];
        $progress->firstAffectedId = $row['first_affected_id'] === null ? null : (int) $row['first_affected_id'];
        $progress->lastAffectedId = $row['last_affected_id'] === null ? null : (int) $row['last_affected_id'];
        $progress->idsSha256 = (string) $row['ids_sha256'];
        $alerts = json_decode((string) $row['alerts'], true);
        $progress->alerts = is_array($alerts) ? $alerts : [];
        $progress->undecodable = (int) $row['undecodable'];
        $progress->batches = (int) $row['batches'];
        $progress->maxTransactionMs = (int) $row['max_transaction_ms'];
        $progress->finishedAt = $row['finished_at'] === null ? null : (string) $row['finished_at'];
        return $progress;
    }

    /** Replaces the class's row with a fresh run. */
    public function start(ClassProgress $progress): void
    {
        $table = $this->db->table(self::TABLE);
        $this->db->execute('DELETE FROM ' . $table . ' WHERE class_code = ?', [$progress->classCode]);
        $this->db->execute(
            'INSERT INTO ' . $table . ' (class_code, run_id, policy_version, status, cutoff, max_id, last_id,'
            . ' rows_affected, first_affected_id, last_affected_id, ids_sha256, alerts, undecodable, batches,'
            . ' max_transaction_ms, started_at, updated_at, finished_at)'
            . ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            [
                $progress->classCode, $progress->runId, $progress->policyVersion, $progress->status,
                $progress->cutoff, $progress->maxId, $progress->lastId, $progress->rowsAffected,
                $progress->firstAffectedId, $progress->lastAffectedId, $progress->idsSha256,
                json_encode((object) $progress->alerts), $progress->undecodable, $progress->batches,
                $progress->maxTransactionMs, $progress->startedAt, $progress->startedAt, $progress->finishedAt,
            ]
        );
    }

    public function save(ClassProgress $progress, string $now): void
    {
        $this->db->execute(
            'UPDATE ' . $this->db->table(self::TABLE) . ' SET status = ?, last_id = ?, rows_affected = ?,'
            . ' first_affected_id = ?, last_affected_id = ?, ids_sha256 = ?, alerts = ?, undecodable = ?,'
            . ' batches = ?, max_transaction_ms = ?, updated_at = ?, finished_at = ?'
            . ' WHERE class_code = ? AND run_id = ?',
            [
                $progress->status, $progress->lastId, $progress->rowsAffected, $progress->firstAffectedId,
                $progress->lastAffectedId, $progress->idsSha256, json_encode((object) $progress->alerts),
                $progress->undecodable, $progress->batches, $progress->maxTransactionMs, $now,
                $progress->finishedAt, $progress->classCode, $progress->runId,
            ]
        );
    }
}
