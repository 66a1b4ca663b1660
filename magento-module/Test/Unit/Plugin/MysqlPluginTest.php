<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Plugin;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Sql\AttributionContext;
use LeakGuard\Connector\Model\Sql\CommentFormatter;
use LeakGuard\Connector\Plugin\Framework\DB\Adapter\Pdo\MysqlPlugin;
use LeakGuard\Connector\Test\Support\TestKit;
use Magento\Framework\DB\Adapter\Pdo\Mysql;
use Magento\Framework\DB\Select;
use PHPUnit\Framework\TestCase;

class MysqlPluginTest extends TestCase
{
    private function context(): AttributionContext
    {
        $context = new AttributionContext(new CommentFormatter());
        $context->set(12, null, 'customer_index_index', 'r-1');
        return $context;
    }

    public function test_queries_are_prefixed_with_the_attribution_comment_when_enabled(): void
    {
        $kit = new TestKit([Config::XML_CAPTURE_SQL_ATTRIBUTION => '1']);
        $plugin = new MysqlPlugin($kit->config, $this->context());
        self::assertSame(
            ["/*lg_admin='12',lg_route='customer_index_index',lg_req='r-1'*/SELECT * FROM customer_entity WHERE entity_id = ?", [5]],
            $plugin->beforeQuery(new Mysql(), 'SELECT * FROM customer_entity WHERE entity_id = ?', [5])
        );
    }

    public function test_a_select_object_is_assembled_with_its_own_binds(): void
    {
        $kit = new TestKit([Config::XML_CAPTURE_SQL_ATTRIBUTION => '1']);
        $plugin = new MysqlPlugin($kit->config, $this->context());
        [$sql, $bind] = $plugin->beforeQuery(new Mysql(), new Select('SELECT email FROM customer_entity WHERE website_id = :w', [':w' => 1]));
        self::assertStringEndsWith('*/SELECT email FROM customer_entity WHERE website_id = :w', $sql);
        self::assertSame([':w' => 1], $bind);
    }

    public function test_off_by_default_and_without_context_queries_are_untouched(): void
    {
        $kit = new TestKit();
        self::assertNull((new MysqlPlugin($kit->config, $this->context()))->beforeQuery(new Mysql(), 'SELECT 1'));
        $enabled = new TestKit([Config::XML_CAPTURE_SQL_ATTRIBUTION => '1']);
        self::assertNull((new MysqlPlugin($enabled->config, new AttributionContext(new CommentFormatter())))->beforeQuery(new Mysql(), 'SELECT 1'));
    }

    public function test_an_already_commented_query_is_not_prefixed_twice(): void
    {
        $kit = new TestKit([Config::XML_CAPTURE_SQL_ATTRIBUTION => '1']);
        self::assertNull((new MysqlPlugin($kit->config, $this->context()))->beforeQuery(new Mysql(), "/*lg_admin='1'*/SELECT 1"));
    }

    public function test_values_are_url_encoded_so_they_cannot_break_out_of_the_comment(): void
    {
        $formatter = new CommentFormatter();
        $comment = $formatter->format(['lg_admin' => '7', 'lg_route' => "x*/ DROP TABLE t; -- '", 'lg_req' => 'a b']);
        self::assertSame("/*lg_admin='7',lg_route='x%2A%2F%20DROP%20TABLE%20t%3B%20--%20%27',lg_req='a%20b'*/", $comment);
        self::assertSame(['lg_admin' => '7', 'lg_route' => "x*/ DROP TABLE t; -- '", 'lg_req' => 'a b'], $formatter->parse($comment . 'SELECT 1'));
        self::assertNull($formatter->format([]));
    }
}
