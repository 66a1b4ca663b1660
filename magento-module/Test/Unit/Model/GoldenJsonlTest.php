<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Model;

use LeakGuard\Connector\Model\ActionLog\ActionClassifier;
use LeakGuard\Connector\Model\Sql\AttributionContext;
use LeakGuard\Connector\Model\Sql\CommentFormatter;
use LeakGuard\Connector\Observer\AdminLoginFailedObserver;
use LeakGuard\Connector\Plugin\Backend\App\AbstractActionPlugin;
use LeakGuard\Connector\Test\Support\TestKit;
use Magento\Backend\App\AbstractAction;
use Magento\Framework\App\Request\Http;
use Magento\Framework\Event;
use Magento\Framework\Event\Observer;
use PHPUnit\Framework\TestCase;

/**
 * Test/fixtures/admin_actions.sample.jsonl is what the module writes for a few typical admin actions; the host
 * agent's parser tests read the same file. Regenerate with LEAKGUARD_UPDATE_FIXTURES=1 after a deliberate change.
 */
class GoldenJsonlTest extends TestCase
{
    public function test_the_sample_file_matches_what_the_recorder_writes(): void
    {
        $kit = new TestKit();
        $headers = ['X-Forwarded-For' => '198.51.100.4', 'X-Request-Id' => 'req-sample-0001'];
        $action = new class extends AbstractAction {
            public function execute()
            {
                return null;
            }
        };
        $steps = [
            ['mui_export_gridToCsv', ['namespace' => 'customer_listing', 'filters' => ['placeholder' => 'true'], 'search' => '', 'selected' => 'false', 'excluded' => 'false']],
            ['customer_index_edit', ['id' => '42']],
            ['adminhtml_export_export', ['entity' => 'customer', 'file_format' => 'csv', 'export_filter' => ['email' => '']]],
            ['sales_order_massCancel', ['selected' => ['100', '101'], 'namespace' => 'sales_order_grid']],
        ];
        foreach ($steps as $i => [$name, $params]) {
            $request = new Http($name, $params, ['X-Request-Id' => 'req-sample-000' . ($i + 2)] + $headers);
            $context = $kit->requestContext($request);
            (new AbstractActionPlugin(new ActionClassifier(), $kit->recorder($context), $kit->config, $kit->currentAdmin(), $context, new AttributionContext(new CommentFormatter())))
                ->aroundDispatch($action, fn () => null, $request);
            $kit->clock->advance(7);
        }
        $login = new Http('adminhtml_auth_login', [], $headers);
        (new AdminLoginFailedObserver($kit->recorder($kit->requestContext($login))))->execute(
            new Observer(['event' => new Event(['user_name' => 'admin', 'exception' => new \RuntimeException('x'), 'password' => 'hunter2'])])
        );

        $written = (string) file_get_contents($kit->root . '/var/log/leakguard/admin_actions.jsonl');
        $fixture = dirname(__DIR__, 2) . '/fixtures/admin_actions.sample.jsonl';
        if (getenv('LEAKGUARD_UPDATE_FIXTURES') === '1') {
            file_put_contents($fixture, $written);
        }
        self::assertSame((string) file_get_contents($fixture), $written);
        self::assertSame(5, substr_count($written, "\n"));
        self::assertStringNotContainsString('hunter2', $written);
    }
}
