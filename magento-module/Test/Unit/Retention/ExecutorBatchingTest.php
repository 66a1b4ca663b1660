<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Retention;

use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Db\PdoConnection;
use LeakGuard\Connector\Model\Retention\BatchResult;
use LeakGuard\Connector\Model\Retention\ClassProgress;
use LeakGuard\Connector\Model\Retention\Executor;
use LeakGuard\Connector\Model\Retention\Handler\HandlerInterface;
use LeakGuard\Connector\Model\Retention\Policy;
use LeakGuard\Connector\Model\Retention\PolicyClass;
use LeakGuard\Connector\Model\Retention\ProgressStore;
use LeakGuard\Connector\Test\Support\DbSchemaSql;
use LeakGuard\Connector\Test\Support\FixedClock;
use PHPUnit\Framework\TestCase;

/**
 * Batching, resume and dry-run rules of the executor, with a scripted handler over SQLite
 * (the SQL of the real handlers is tested on MariaDB in Test/Integration).
 */
class ExecutorBatchingTest extends TestCase
{
    private PdoConnection $db;
    /** @var list<array{0: int, 1: int, 2: bool}> */
    private array $ranges = [];

    protected function setUp(): void
    {
        $this->db = new PdoConnection(new \PDO('sqlite::memory:'));
        foreach (DbSchemaSql::createStatements(dirname(__DIR__, 3) . '/etc/db_schema.xml', 'sqlite') as $sql) {
            $this->db->execute($sql);
        }
        $this->db->execute('CREATE TABLE items (id INTEGER PRIMARY KEY, dirty INTEGER NOT NULL)');
        foreach ([1, 2, 3, 5, 8, 9, 10, 14, 15, 16, 21] as $id) {
            $this->db->execute('INSERT INTO items (id, dirty) VALUES (?, 1)', [$id]);
        }
    }

    private function executor(int $batchSize): Executor
    {
        $db = new class ($this->db) implements ConnectionInterface {
            public function __construct(private PdoConnection $inner)
            {
            }

            public function fetchAll(string $sql, array $bind = []): array
            {
                return $this->inner->fetchAll($sql, $bind);
            }

            public function fetchOne(string $sql, array $bind = []): mixed
            {
                // SQLite has no named locks; the MariaDB tests cover GET_LOCK.
                return str_contains($sql, '_LOCK(') ? 1 : $this->inner->fetchOne($sql, $bind);
            }

            public function execute(string $sql, array $bind = []): int
            {
                return $this->inner->execute($sql, $bind);
            }

            public function lastInsertId(): int
            {
                return $this->inner->lastInsertId();
            }

            public function beginTransaction(): void
            {
                $this->inner->beginTransaction();
            }

            public function commit(): void
            {
                $this->inner->commit();
            }

            public function rollBack(): void
            {
                $this->inner->rollBack();
            }

            public function table(string $name): string
            {
                return $name;
            }
        };
        $ranges = &$this->ranges;
        $handler = new class ($ranges) implements HandlerInterface {
            public function __construct(private array &$ranges)
            {
            }

            public function className(): string
            {
                return 'items';
            }

            public function table(): string
            {
                return 'items';
            }

            public function primaryKey(): string
            {
                return 'id';
            }

            public function validate(PolicyClass $policyClass): ?string
            {
                return null;
            }

            public function processBatch(ConnectionInterface $db, PolicyClass $policyClass, int $fromId, int $toId, string $cutoff, bool $dryRun): BatchResult
            {
                $this->ranges[] = [$fromId, $toId, $dryRun];
                $ids = array_map('intval', array_column($db->fetchAll('SELECT id FROM items WHERE id BETWEEN ? AND ? AND dirty = 1 ORDER BY id', [$fromId, $toId]), 'id'));
                if (!$dryRun && $ids !== []) {
                    $db->execute('UPDATE items SET dirty = 0 WHERE id IN (' . implode(',', $ids) . ')');
                }
                return new BatchResult($ids, $ids === [] ? [] : ['seen' => count($ids)]);
            }
        };
        return new Executor($db, new ProgressStore($db), new FixedClock(), [$handler], $batchSize);
    }

    private function policy(int $version = 1): Policy
    {
        return Policy::fromJson('{"version":' . $version . ',"classes":[{"class":"items","max_age_days":7}]}');
    }

    public function test_keys_are_walked_in_contiguous_ranges_up_to_the_highest_key_at_start(): void
    {
        $report = $this->executor(5)->run($this->policy());
        self::assertSame([[1, 5, false], [6, 10, false], [11, 15, false], [16, 20, false], [21, 21, false]], $this->ranges);
        $class = $report['classes'][0];
        self::assertSame(11, $class['rows_affected']);
        self::assertSame(5, $class['batches']);
        self::assertSame([['code' => 'seen', 'rows' => 11]], $class['alerts']);
        self::assertSame('2026-11-21T12:00:00Z', $class['cutoff']);
        self::assertSame(0, (int) $this->db->fetchOne('SELECT COUNT(*) FROM items WHERE dirty = 1'));
    }

    public function test_rows_added_during_a_run_wait_for_the_next_run(): void
    {
        $executor = $this->executor(10);
        $executor->setBatchListener(function (string $class, ClassProgress $progress): void {
            if ($progress->batches === 1) {
                $this->db->execute('INSERT INTO items (id, dirty) VALUES (40, 1)');
            }
        });
        self::assertSame(11, $executor->run($this->policy())['classes'][0]['rows_affected']);
        self::assertSame(21, (int) end($this->ranges)[1]);
        $executor->setBatchListener(null);
        self::assertSame(1, $executor->run($this->policy())['classes'][0]['rows_affected']);
    }

    public function test_a_resumed_run_starts_after_the_last_committed_range(): void
    {
        $executor = $this->executor(5);
        $executor->setBatchListener(static function (string $class, ClassProgress $progress): void {
            if ($progress->batches === 3) {
                throw new \RuntimeException('stop');
            }
        });
        try {
            $executor->run($this->policy());
            self::fail('must stop');
        } catch (\RuntimeException $e) {
            self::assertSame('stop', $e->getMessage());
        }
        $this->ranges = [];
        $executor->setBatchListener(null);
        $class = $executor->run($this->policy())['classes'][0];
        self::assertSame([[16, 20, false], [21, 21, false]], $this->ranges);
        self::assertTrue($class['resumed']);
        self::assertSame(11, $class['rows_affected']);
        self::assertSame(5, $class['batches']);
    }

    public function test_a_new_policy_version_restarts_an_interrupted_class_from_the_beginning(): void
    {
        $executor = $this->executor(5);
        $executor->setBatchListener(static function (string $class, ClassProgress $progress): void {
            if ($progress->batches === 1) {
                throw new \RuntimeException('stop');
            }
        });
        try {
            $executor->run($this->policy(1));
        } catch (\RuntimeException $e) {
        }
        $this->ranges = [];
        $executor->setBatchListener(null);
        $class = $executor->run($this->policy(2))['classes'][0];
        self::assertFalse($class['resumed']);
        self::assertSame([1, 5, false], $this->ranges[0]);
        self::assertSame(7, $class['rows_affected']);
    }

    public function test_a_dry_run_visits_the_same_ranges_and_writes_nothing(): void
    {
        $class = $this->executor(5)->run($this->policy(), true)['classes'][0];
        self::assertSame([[1, 5, true], [6, 10, true], [11, 15, true], [16, 20, true], [21, 21, true]], $this->ranges);
        self::assertSame(11, $class['rows_affected']);
        self::assertSame(11, (int) $this->db->fetchOne('SELECT COUNT(*) FROM items WHERE dirty = 1'));
        self::assertSame(0, (int) $this->db->fetchOne('SELECT COUNT(*) FROM leakguard_retention_progress'));
    }

    public function test_an_empty_table_completes_with_no_batches(): void
    {
        $this->db->execute('DELETE FROM items');
        $class = $this->executor(5)->run($this->policy())['classes'][0];
        self::assertSame([], $this->ranges);
        self::assertSame('complete', $class['status']);
        self::assertSame(0, $class['batches']);
        self::assertSame(ClassProgress::EMPTY_CHAIN, $class['affected_ids_sha256']);
    }
}
