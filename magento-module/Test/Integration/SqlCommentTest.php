<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Integration;

use LeakGuard\Connector\Model\Sql\CommentFormatter;
use LeakGuard\Connector\Test\Support\MariaDbTestCase;

/**
 * The attribution comment is accepted by MariaDB in front of every statement kind Magento sends, and is visible
 * to the server (information_schema.PROCESSLIST shows the statement text with the comment).
 */
class SqlCommentTest extends MariaDbTestCase
{
    public function test_prefixed_statements_run_unchanged(): void
    {
        $comment = (string) (new CommentFormatter())->format([
            'lg_admin' => '12', 'lg_route' => "sales_order_view'*/", 'lg_req' => 'r-1',
        ]);
        $this->db->execute($comment . "INSERT INTO sales_order (entity_id, state, increment_id) VALUES (1, 'new', '000000001')");
        $this->db->execute($comment . "UPDATE sales_order SET state = 'processing' WHERE entity_id = ?", [1]);
        self::assertSame('processing', $this->db->fetchOne($comment . 'SELECT state FROM sales_order WHERE entity_id = ?', [1]));
        $this->db->execute($comment . 'SET @lg_probe = 1');
        $this->db->execute($comment . 'DELETE FROM sales_order WHERE entity_id = 1');
        self::assertSame(0, (int) $this->db->fetchOne('SELECT COUNT(*) FROM sales_order'));

        $seen = $this->db->fetchOne($comment . 'SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = CONNECTION_ID()');
        self::assertStringStartsWith("/*lg_admin='12',lg_route='sales_order_view%27%2A%2F',lg_req='r-1'*/SELECT INFO", (string) $seen);
        self::assertSame(['lg_admin' => '12', 'lg_route' => "sales_order_view'*/", 'lg_req' => 'r-1'], (new CommentFormatter())->parse((string) $seen));
    }
}
