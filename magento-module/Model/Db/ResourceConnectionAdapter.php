<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Db;

use Magento\Framework\App\ResourceConnection;
use Magento\Framework\DB\Adapter\AdapterInterface;

/**
 * {@see ConnectionInterface} over Magento's default database connection (production binding in di.xml).
 */
class ResourceConnectionAdapter implements ConnectionInterface
{
    private ResourceConnection $resourceConnection;
    private ?AdapterInterface $connection = null;

    public function __construct(ResourceConnection $resourceConnection)
    {
        $this->resourceConnection = $resourceConnection;
    }

    public function fetchAll(string $sql, array $bind = []): array
    {
        return $this->connection()->fetchAll($sql, $bind);
    }

    public function fetchOne(string $sql, array $bind = []): mixed
    {
        $value = $this->connection()->fetchOne($sql, $bind);
        return $value === false ? null : $value;
    }

    public function execute(string $sql, array $bind = []): int
    {
        return $this->connection()->query($sql, $bind)->rowCount();
    }

    public function lastInsertId(): int
    {
        return (int) $this->connection()->lastInsertId();
    }

    public function beginTransaction(): void
    {
        $this->connection()->beginTransaction();
    }

    public function commit(): void
    {
        $this->connection()->commit();
    }

    public function rollBack(): void
    {
        $this->connection()->rollBack();
    }

    public function table(string $name): string
    {
        return $this->resourceConnection->getTableName($name);
    }

    private function connection(): AdapterInterface
    {
        return $this->connection ??= $this->resourceConnection->getConnection();
    }
}
