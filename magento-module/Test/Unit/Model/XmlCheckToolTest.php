<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Model;

use PHPUnit\Framework\TestCase;

/**
 * The etc/*.xml checker used by scripts/test-php passes the module and fails on broken files.
 */
class XmlCheckToolTest extends TestCase
{
    private function check(string $moduleDir): array
    {
        $command = escapeshellarg(PHP_BINARY) . ' ' . escapeshellarg(dirname(__DIR__, 2) . '/tools/check-xml.php') . ' ' . escapeshellarg($moduleDir) . ' 2>&1';
        exec($command, $output, $code);
        return [$code, implode("\n", $output)];
    }

    private function module(array $files): string
    {
        $dir = sys_get_temp_dir() . '/lg-xml-' . bin2hex(random_bytes(4));
        foreach ($files as $path => $content) {
            @mkdir(dirname($dir . '/' . $path), 0777, true);
            file_put_contents($dir . '/' . $path, $content);
        }
        return $dir;
    }

    public function test_the_module_passes(): void
    {
        [$code, $output] = $this->check(dirname(__DIR__, 3));
        self::assertSame(0, $code, $output);
        self::assertStringContainsString(' 0 problems', $output);
    }

    public function test_malformed_xml_a_wrong_root_and_a_wrong_urn_fail(): void
    {
        $xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"';
        $dir = $this->module([
            'etc/module.xml' => '<?xml version="1.0"?><config ' . $xsi . ' xsi:noNamespaceSchemaLocation="urn:magento:framework:Module/etc/module.xsd"><module name="A_B">',
            'etc/acl.xml' => '<?xml version="1.0"?><acl ' . $xsi . ' xsi:noNamespaceSchemaLocation="urn:magento:framework:Acl/etc/acl.xsd"/>',
            'etc/crontab.xml' => '<?xml version="1.0"?><config ' . $xsi . ' xsi:noNamespaceSchemaLocation="urn:magento:framework:Cron/etc/crontab.xsd"/>',
        ]);
        [$code, $output] = $this->check($dir);
        array_map('unlink', glob($dir . '/etc/*'));
        rmdir($dir . '/etc');
        rmdir($dir);
        self::assertSame(1, $code);
        self::assertStringContainsString('etc/module.xml:', $output);
        self::assertStringContainsString('etc/acl.xml: root element is <acl>, expected <config>', $output);
        self::assertStringContainsString('etc/crontab.xml: xsi:noNamespaceSchemaLocation is "urn:magento:framework:Cron/etc/crontab.xsd"', $output);
    }
}
