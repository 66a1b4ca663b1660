<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Db;

/**
 * {@see ConnectionInterface} over a PDO handle (MySQL/MariaDB or SQLite); used by tests and the benchmark.
 */
class PdoConnection implements ConnectionInterface
{
    private \PDO $pdo;
    private string $tablePrefix;

    public function __construct(\PDO $pdo, string $tablePrefix = '')
    {
        $pdo->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);
        $pdo->setAttribute(\PDO::ATTR_DEFAULT_FETCH_MODE, \PDO::FETCH_ASSOC);
        $this->pdo = $pdo;
        $this->tablePrefix = $tablePrefix;
    }

    public function fetchAll(string $sql, array $bind = []): array
    {
        $statement = $this->pdo->prepare($sql);
        $statement->execute($bind);
        return $statement->fetchAll(\PDO::FETCH_ASSOC);
    }

    public function fetchOne(string $sql, array $bind = []): mixed
    {
        $statement = $this->pdo->prepare($sql);
        $statement->execute($bind);
        $value = $statement->fetchColumn();
        return $value === false ? null : $value;
    }

    public function execute(string $sql, array $bind = []): int
    {
        $statement = $this->pdo->prepare($sql);
        $statement->execute($bind);
        return $statement->rowCount();
    }

    public function lastInsertId(): int
    {
        return (int) $this->pdo->lastInsertId();
    }

    public function beginTransaction(): void
    {
        $this->pdo->beginTransaction();
    }

    public function commit(): void
    {
        $this->pdo->commit();
    }

    public function rollBack(): void
    {
        if ($this->pdo->inTransaction()) {
            $this->pdo->rollBack();
        }
    }

    public function table(string $name): string
    {
        return $this->tablePrefix . $name;
    }

    public function pdo(): \PDO
    {
        return $this->pdo;
    }
}
