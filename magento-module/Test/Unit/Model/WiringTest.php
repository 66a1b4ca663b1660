<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Model;

use PHPUnit\Framework\TestCase;

/**
 * Every class, method and plugin named in etc/*.xml exists, so a typo fails here rather than in
 * setup:di:compile on a shop.
 */
class WiringTest extends TestCase
{
    private static function xpath(string $file): \DOMXPath
    {
        $dom = new \DOMDocument();
        self::assertTrue($dom->load(dirname(__DIR__, 3) . '/etc/' . $file), $file);
        return new \DOMXPath($dom);
    }

    private static function classExists(string $class): bool
    {
        $class = ltrim($class, '\\');
        if (str_ends_with($class, '\\Proxy')) {
            $class = substr($class, 0, -6);
        }
        return class_exists($class) || interface_exists($class);
    }

    public function test_observers_exist_and_implement_the_observer_interface(): void
    {
        foreach (['events.xml', 'adminhtml/events.xml', 'webapi_rest/events.xml'] as $file) {
            foreach (self::xpath($file)->query('//observer') as $observer) {
                $class = $observer->getAttribute('instance');
                self::assertTrue(is_subclass_of($class, \Magento\Framework\Event\ObserverInterface::class), $file . ': ' . $class);
            }
        }
    }

    public function test_cron_jobs_point_at_existing_methods_in_the_module_group(): void
    {
        $xpath = self::xpath('crontab.xml');
        $jobs = $xpath->query('//group[@id="leakguard"]/job');
        self::assertSame(4, $jobs->length);
        foreach ($jobs as $job) {
            self::assertTrue(method_exists($job->getAttribute('instance'), $job->getAttribute('method')), $job->getAttribute('name'));
        }
        self::assertSame(1, self::xpath('cron_groups.xml')->query('//group[@id="leakguard"]/use_separate_process')->length);
    }

    public function test_plugins_exist_and_each_plugin_method_targets_a_method_of_the_target_type(): void
    {
        $n = 0;
        foreach (['di.xml', 'adminhtml/di.xml', 'webapi_rest/di.xml'] as $file) {
            foreach (self::xpath($file)->query('//type[plugin]') as $type) {
                $target = $type->getAttribute('name');
                self::assertTrue(self::classExists($target), $target);
                foreach ($type->getElementsByTagName('plugin') as $plugin) {
                    $class = $plugin->getAttribute('type');
                    self::assertTrue(class_exists($class), $class);
                    foreach ((new \ReflectionClass($class))->getMethods(\ReflectionMethod::IS_PUBLIC) as $method) {
                        if (preg_match('/^(before|after|around)(\w+)$/', $method->getName(), $m) !== 1) {
                            continue;
                        }
                        self::assertTrue(method_exists($target, lcfirst($m[2])), $class . '::' . $method->getName() . ' targets ' . $target);
                        $n++;
                    }
                }
            }
        }
        self::assertGreaterThanOrEqual(12, $n);
    }

    public function test_preferences_and_object_arguments_name_existing_classes(): void
    {
        foreach (['di.xml', 'adminhtml/di.xml', 'webapi_rest/di.xml'] as $file) {
            $xpath = self::xpath($file);
            foreach ($xpath->query('//preference') as $preference) {
                self::assertTrue(is_subclass_of($preference->getAttribute('type'), $preference->getAttribute('for')), $preference->getAttribute('type'));
            }
            foreach ($xpath->query('//*[@xsi:type="object"]') as $argument) {
                self::assertTrue(self::classExists(trim($argument->textContent)), $file . ': ' . trim($argument->textContent));
            }
        }
    }

    public function test_the_acl_declares_every_resource_the_code_checks(): void
    {
        $ids = [];
        foreach (self::xpath('acl.xml')->query('//resource') as $resource) {
            $ids[] = $resource->getAttribute('id');
        }
        foreach (['LeakGuard_Connector::console', 'LeakGuard_Connector::console_review', 'LeakGuard_Connector::console_admin', 'LeakGuard_Connector::config'] as $id) {
            self::assertContains($id, $ids);
        }
        foreach (self::xpath('adminhtml/menu.xml')->query('//add') as $add) {
            self::assertContains($add->getAttribute('resource'), $ids);
        }
        self::assertSame('LeakGuard_Connector::config', trim(self::xpath('adminhtml/system.xml')->query('//section/resource')->item(0)->textContent));
    }

    public function test_encrypted_fields_use_magentos_encrypted_backend_model(): void
    {
        $xpath = self::xpath('adminhtml/system.xml');
        foreach (['enrollment_token', 'shared_secret'] as $field) {
            $node = $xpath->query('//field[@id="' . $field . '"]')->item(0);
            self::assertSame('obscure', $node->getAttribute('type'));
            self::assertSame('Magento\Config\Model\Config\Backend\Encrypted', trim($xpath->query('backend_model', $node)->item(0)->textContent));
        }
    }

    public function test_the_whitelist_matches_db_schema(): void
    {
        $whitelist = json_decode((string) file_get_contents(dirname(__DIR__, 3) . '/etc/db_schema_whitelist.json'), true);
        $schema = [];
        foreach (self::xpath('db_schema.xml')->query('//table') as $table) {
            foreach ($table->getElementsByTagName('column') as $column) {
                $schema[$table->getAttribute('name')]['column'][$column->getAttribute('name')] = true;
            }
        }
        foreach ($schema as $table => $parts) {
            self::assertSame($parts['column'], $whitelist[$table]['column'], $table);
        }
        self::assertSame(array_keys($schema), array_keys($whitelist));
    }
}
