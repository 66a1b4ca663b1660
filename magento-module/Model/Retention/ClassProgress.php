<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention;

/**
 * Durable state of one class run, stored in `leakguard_retention_progress` and updated in the same transaction
 * as each batch, so a run interrupted between batches resumes exactly after the last committed batch.
 */
class ClassProgress
{
    public const STATUS_RUNNING = 'running';
    public const STATUS_COMPLETE = 'complete';
    /** Hex SHA-256 of the empty string: the chain value before any affected id. */
    public const EMPTY_CHAIN = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

    public string $status = self::STATUS_RUNNING;
    public int $lastId = 0;
    public int $rowsAffected = 0;
    public ?int $firstAffectedId = null;
    public ?int $lastAffectedId = null;
    public string $idsSha256 = self::EMPTY_CHAIN;
    /** @var array<string, int> */
    public array $alerts = [];
    public int $undecodable = 0;
    public int $batches = 0;
    public int $maxTransactionMs = 0;
    public ?string $finishedAt = null;

    public function __construct(
        public readonly string $classCode,
        public readonly string $runId,
        public readonly int $policyVersion,
        public readonly string $cutoff,
        public readonly int $maxId,
        public readonly string $startedAt
    ) {
    }

    /**
     * Folds one batch in. The id hash is a chain, h = sha256(h_prev . ":" . id) over ascending ids, so it does
     * not depend on batch boundaries and survives a resume with only the last value stored.
     */
    public function add(BatchResult $result, int $batchUpperId, int $transactionMs): void
    {
        foreach ($result->affectedIds as $id) {
            $this->idsSha256 = hash('sha256', $this->idsSha256 . ':' . $id);
            $this->firstAffectedId ??= $id;
            $this->lastAffectedId = $id;
        }
        $this->rowsAffected += count($result->affectedIds);
        foreach ($result->alerts as $code => $rows) {
            $this->alerts[$code] = ($this->alerts[$code] ?? 0) + $rows;
        }
        $this->undecodable += $result->undecodable;
        $this->lastId = $batchUpperId;
        $this->batches++;
        $this->maxTransactionMs = max($this->maxTransactionMs, $transactionMs);
    }
}
