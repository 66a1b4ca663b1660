<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention;

use LeakGuard\Connector\Model\Clock;
use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Retention\Handler\HandlerInterface;

/**
 * Applies a retention policy in short transactions over primary-key ranges.
 *
 * Per class: fix the cut-off and the highest key at start, then walk [last_id + 1, last_id + batch_size]
 * ranges; each range is one transaction that locks the candidate rows, changes them and advances the progress
 * row. A run that stops between batches resumes from the progress row (same run id, cut-off and counters).
 * Candidates are only rows that still hold data to clear, so repeating a finished run changes nothing.
 * A dry run uses the same SELECTs without locks and writes nothing, not even progress.
 */
class Executor
{
    public const DEFAULT_BATCH_SIZE = 1000;
    /**
     * Named lock serializing runs on one database. The name carries a digest of the database name, so two
     * Magento databases on one MariaDB server (GET_LOCK names are server-wide) do not block each other.
     */
    public const LOCK_NAME_SQL = "CONCAT('leakguard_retention_', LEFT(SHA1(COALESCE(DATABASE(), '')), 16))";

    private ConnectionInterface $db;
    private ProgressStore $progressStore;
    private Clock $clock;
    /** @var array<string, HandlerInterface> */
    private array $handlers = [];
    private int $batchSize;
    /** @var callable|null */
    private $batchListener = null;

    /**
     * @param list<HandlerInterface> $handlers
     */
    public function __construct(
        ConnectionInterface $db,
        ProgressStore $progressStore,
        Clock $clock,
        array $handlers = [],
        int $batchSize = self::DEFAULT_BATCH_SIZE
    ) {
        $this->db = $db;
        $this->progressStore = $progressStore;
        $this->clock = $clock;
        foreach ($handlers as $handler) {
            $this->handlers[$handler->className()] = $handler;
        }
        $this->batchSize = max(1, $batchSize);
    }

    public function setBatchSize(int $batchSize): void
    {
        $this->batchSize = max(1, $batchSize);
    }

    /**
     * Called after every committed batch with (string $class, ClassProgress $progress, BatchResult $batch).
     * Tests use it to inject failures between batches; the benchmark to sample lock hold times.
     */
    public function setBatchListener(?callable $listener): void
    {
        $this->batchListener = $listener;
    }

    /**
     * @return array<string, mixed> the retention report (see README "Retention report")
     */
    public function run(Policy $policy, bool $dryRun = false): array
    {
        $startedAt = $this->clock->now();
        if (!$dryRun && !$this->acquireLock()) {
            throw new \RuntimeException('another retention run holds the lock');
        }
        try {
            $classes = [];
            foreach ($policy->classes as $policyClass) {
                $classes[] = $this->runClass($policy, $policyClass, $dryRun);
            }
        } finally {
            if (!$dryRun) {
                $this->releaseLock();
            }
        }
        return [
            'run_id' => $this->uuid4(),
            'policy_version' => $policy->version,
            'policy_sha256' => $policy->sha256,
            'dry_run' => $dryRun,
            'started_at' => $this->rfc3339($startedAt),
            'finished_at' => $this->rfc3339($this->clock->now()),
            'classes' => $classes,
        ];
    }

    /**
     * @return array<string, mixed>
     */
    private function runClass(Policy $policy, PolicyClass $policyClass, bool $dryRun): array
    {
        $handler = $this->handlers[$policyClass->class] ?? null;
        if ($handler === null) {
            return ['class' => $policyClass->class, 'status' => 'unsupported', 'reason' => 'unknown class'];
        }
        $invalid = $handler->validate($policyClass);
        if ($invalid !== null) {
            return ['class' => $policyClass->class, 'status' => 'unsupported', 'reason' => $invalid];
        }

        $progress = $dryRun ? null : $this->progressStore->load($policyClass->class);
        $resumed = $progress !== null && $progress->status === ClassProgress::STATUS_RUNNING
            && $progress->policyVersion === $policy->version;
        if (!$resumed) {
            $progress = $this->newProgress($policy, $policyClass, $handler);
            if (!$dryRun) {
                $this->progressStore->start($progress);
            }
        }

        while ($progress->lastId < $progress->maxId) {
            $fromId = $progress->lastId + 1;
            $toId = min($progress->lastId + $this->batchSize, $progress->maxId);
            $begin = hrtime(true);
            if ($dryRun) {
                $result = $handler->processBatch($this->db, $policyClass, $fromId, $toId, $progress->cutoff, true);
                $progress->add($result, $toId, 0);
            } else {
                $this->db->beginTransaction();
                try {
                    $result = $handler->processBatch($this->db, $policyClass, $fromId, $toId, $progress->cutoff, false);
                    $progress->add($result, $toId, 0);
                    $this->progressStore->save($progress, $this->dbTime($this->clock->now()));
                    $this->db->commit();
                } catch (\Throwable $e) {
                    $this->db->rollBack();
                    throw $e;
                }
                $elapsedMs = (int) ((hrtime(true) - $begin) / 1_000_000);
                $progress->maxTransactionMs = max($progress->maxTransactionMs, $elapsedMs);
            }
            if ($this->batchListener !== null) {
                ($this->batchListener)($policyClass->class, $progress, $result);
            }
        }

        $progress->status = ClassProgress::STATUS_COMPLETE;
        $progress->finishedAt = $this->dbTime($this->clock->now());
        if (!$dryRun) {
            $this->progressStore->save($progress, $progress->finishedAt);
        }

        $alerts = [];
        foreach ($progress->alerts as $code => $rows) {
            $alerts[] = ['code' => $code, 'rows' => $rows];
        }
        return [
            'class' => $policyClass->class,
            'status' => 'complete',
            'table' => $handler->table(),
            'action' => $policyClass->action,
            'anchor' => $policyClass->anchor,
            'max_age_days' => $policyClass->maxAgeDays,
            'class_run_id' => $progress->runId,
            'resumed' => $resumed,
            'cutoff' => $this->rfc3339(new \DateTimeImmutable($progress->cutoff, new \DateTimeZone('UTC'))),
            'started_at' => $this->rfc3339(new \DateTimeImmutable($progress->startedAt, new \DateTimeZone('UTC'))),
            'finished_at' => $this->rfc3339(new \DateTimeImmutable($progress->finishedAt, new \DateTimeZone('UTC'))),
            'rows_affected' => $progress->rowsAffected,
            'first_affected_id' => $progress->firstAffectedId,
            'last_affected_id' => $progress->lastAffectedId,
            'affected_ids_sha256' => $progress->idsSha256,
            'undecodable' => $progress->undecodable,
            'batches' => $progress->batches,
            'max_transaction_ms' => $progress->maxTransactionMs,
            'alerts' => $alerts,
        ];
    }

    private function newProgress(Policy $policy, PolicyClass $policyClass, HandlerInterface $handler): ClassProgress
    {
        $now = $this->clock->now();
        $cutoff = $now->sub(new \DateInterval('P' . $policyClass->maxAgeDays . 'D'));
        $maxId = (int) $this->db->fetchOne(
            'SELECT MAX(' . $handler->primaryKey() . ') FROM ' . $this->db->table($handler->table())
        );
        return new ClassProgress(
            $policyClass->class,
            $this->uuid4(),
            $policy->version,
            $this->dbTime($cutoff),
            $maxId,
            $this->dbTime($now)
        );
    }

    private function acquireLock(): bool
    {
        return (int) $this->db->fetchOne('SELECT GET_LOCK(' . self::LOCK_NAME_SQL . ', 0)') === 1;
    }

    private function releaseLock(): void
    {
        $this->db->fetchOne('SELECT RELEASE_LOCK(' . self::LOCK_NAME_SQL . ')');
    }

    private function dbTime(\DateTimeImmutable $time): string
    {
        return $time->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d H:i:s');
    }

    private function rfc3339(\DateTimeImmutable $time): string
    {
        return $time->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d\TH:i:s\Z');
    }

    private function uuid4(): string
    {
        $bytes = random_bytes(16);
        $bytes[6] = chr((ord($bytes[6]) & 0x0f) | 0x40);
        $bytes[8] = chr((ord($bytes[8]) & 0x3f) | 0x80);
        return vsprintf('%s%s-%s-%s-%s-%s%s%s', str_split(bin2hex($bytes), 4));
    }
}
