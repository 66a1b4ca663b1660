<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Db;

/**
 * The narrow SQL surface the module's storage code is written against.
 *
 * Production binds it to Magento's ResourceConnection ({@see ResourceConnectionAdapter}); tests and the
 * benchmark bind it to plain PDO ({@see PdoConnection}). Statements use positional `?` placeholders only.
 */
interface ConnectionInterface
{
    /**
     * @param list<mixed> $bind
     * @return list<array<string, mixed>>
     */
    public function fetchAll(string $sql, array $bind = []): array;

    /**
     * @param list<mixed> $bind
     * @return mixed first column of the first row, or null when there is no row
     */
    public function fetchOne(string $sql, array $bind = []): mixed;

    /**
     * @param list<mixed> $bind
     * @return int rows affected as reported by the driver
     */
    public function execute(string $sql, array $bind = []): int;

    public function lastInsertId(): int;

    public function beginTransaction(): void;

    public function commit(): void;

    public function rollBack(): void;

    /**
     * The physical name of a Magento table (applies the installation's table prefix), unquoted.
     */
    public function table(string $name): string;
}
