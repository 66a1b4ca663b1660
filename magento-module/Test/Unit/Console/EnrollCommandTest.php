<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Console;

use LeakGuard\Connector\Console\Command\EnrollCommand;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Transport\Enrollment;
use LeakGuard\Connector\Test\Support\FakeHttpClient;
use LeakGuard\Connector\Test\Support\TestKit;
use Magento\Framework\Console\CommandList;
use PHPUnit\Framework\TestCase;
use Symfony\Component\Console\Tester\CommandTester;

class EnrollCommandTest extends TestCase
{
    public function test_enrolling_from_the_command_line_prints_the_tenant_and_never_the_secret(): void
    {
        $kit = new TestKit([Config::XML_SERVER_URL => 'https://leakguard.example']);
        $http = (new FakeHttpClient())->answer(200, '{"tenant_id":"tenant-9","key_id":"k-9","secret":"very-secret"}');
        $tester = new CommandTester(new EnrollCommand(new Enrollment($kit->config, $http)));
        self::assertSame(0, $tester->execute(['token' => 'tok-1']));
        self::assertSame("Enrolled as tenant tenant-9 (key k-9).\n", $tester->getDisplay());
        self::assertStringNotContainsString('very-secret', $tester->getDisplay());
        self::assertSame('tok-1', json_decode($http->requests[0]['body'], true)['enrollment_token']);
    }

    public function test_a_refused_enrollment_exits_non_zero(): void
    {
        $kit = new TestKit([Config::XML_SERVER_URL => 'https://leakguard.example']);
        $tester = new CommandTester(new EnrollCommand(new Enrollment($kit->config, (new FakeHttpClient())->answer(401))));
        self::assertSame(1, $tester->execute(['token' => 'tok-1']));
        self::assertStringContainsString('Enrollment failed: enrollment was refused by the server (HTTP 401)', $tester->getDisplay());
    }

    public function test_the_commands_are_registered_in_di_xml_with_their_names(): void
    {
        $dom = new \DOMDocument();
        $dom->load(dirname(__DIR__, 3) . '/etc/di.xml');
        $xpath = new \DOMXPath($dom);
        $items = [];
        foreach ($xpath->query("//type[@name='" . CommandList::class . "']//item") as $item) {
            $items[$item->getAttribute('name')] = trim($item->textContent);
        }
        self::assertSame([
            'leakguard_enroll' => 'LeakGuard\Connector\Console\Command\EnrollCommand',
            'leakguard_permissions_report' => 'LeakGuard\Connector\Console\Command\PermissionsReportCommand',
            'leakguard_retention_run' => 'LeakGuard\Connector\Console\Command\RetentionRunCommand',
        ], $items);
        foreach ($items as $class) {
            self::assertTrue(is_subclass_of($class, \Symfony\Component\Console\Command\Command::class), $class);
        }
    }
}
