<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Model;

use LeakGuard\Connector\Model\Db\ResourceConnectionAdapter;
use Magento\Framework\App\ResourceConnection;
use Magento\Framework\DB\Adapter\AdapterInterface;
use PHPUnit\Framework\TestCase;

class ResourceConnectionAdapterTest extends TestCase
{
    public function test_calls_are_delegated_to_magentos_default_connection(): void
    {
        $adapter = $this->createMock(AdapterInterface::class);
        $statement = new class {
            public function rowCount(): int
            {
                return 3;
            }
        };
        $adapter->expects(self::once())->method('fetchAll')->with('SELECT 1 WHERE a = ?', [1])->willReturn([['1' => 1]]);
        $adapter->method('fetchOne')->willReturnOnConsecutiveCalls('7', false);
        $adapter->expects(self::once())->method('query')->with('UPDATE t SET a = ?', [2])->willReturn($statement);
        $adapter->expects(self::once())->method('beginTransaction');
        $adapter->expects(self::once())->method('commit');
        $adapter->expects(self::once())->method('rollBack');
        $adapter->method('lastInsertId')->willReturn('42');

        $resource = $this->createMock(ResourceConnection::class);
        $resource->expects(self::once())->method('getConnection')->willReturn($adapter);
        $resource->method('getTableName')->willReturnCallback(static fn (string $name): string => 'm2_' . $name);

        $db = new ResourceConnectionAdapter($resource);
        self::assertSame([['1' => 1]], $db->fetchAll('SELECT 1 WHERE a = ?', [1]));
        self::assertSame('7', $db->fetchOne('SELECT 7'));
        self::assertNull($db->fetchOne('SELECT NULL'));
        self::assertSame(3, $db->execute('UPDATE t SET a = ?', [2]));
        $db->beginTransaction();
        $db->commit();
        $db->rollBack();
        self::assertSame(42, $db->lastInsertId());
        self::assertSame('m2_sales_order_payment', $db->table('sales_order_payment'));
    }
}
