<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Support;

use LeakGuard\Connector\Model\ActionLog\JsonlWriter;
use LeakGuard\Connector\Model\ActionLog\Recorder;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\CurrentAdmin;
use LeakGuard\Connector\Model\Db\PdoConnection;
use LeakGuard\Connector\Model\Redactor;
use LeakGuard\Connector\Model\RequestContext;
use LeakGuard\Connector\Model\Transport\HttpClientInterface;
use LeakGuard\Connector\Model\Transport\OutboundQueue;
use LeakGuard\Connector\Model\Transport\ServerClient;
use LeakGuard\Connector\Model\Transport\Signer;
use Magento\Backend\Model\Auth\Session;
use Magento\Framework\App\Filesystem\DirectoryList;
use Magento\Framework\App\Request\Http;
use Magento\Framework\App\State;
use Magento\Framework\HTTP\PhpEnvironment\RemoteAddress;
use Magento\User\Model\User;
use Psr\Log\AbstractLogger;

/**
 * Wires real module objects over SQLite (tables from etc/db_schema.xml), a temp var/ directory and
 * in-memory configuration, for unit tests.
 */
class TestKit
{
    public PdoConnection $db;
    public ArrayConfig $configValues;
    public Config $config;
    public FixedClock $clock;
    public string $root;
    public Session $session;
    public Http $request;
    /** @var list<array{0: string, 1: string, 2: array}> */
    public array $logged = [];
    public AbstractLogger $logger;

    public function __construct(array $config = [])
    {
        $this->db = new PdoConnection(new \PDO('sqlite::memory:'));
        foreach (DbSchemaSql::createStatements(dirname(__DIR__, 2) . '/etc/db_schema.xml', 'sqlite') as $sql) {
            $this->db->execute($sql);
        }
        $this->configValues = new ArrayConfig($config + [
            Config::XML_CAPTURE_ADMIN_ACTIONS => '1',
            Config::XML_CAPTURE_JSONL => '1',
            Config::XML_CAPTURE_WEBAPI => '1',
            Config::XML_BASE_URL => 'https://shop.example/',
        ]);
        $this->config = new Config($this->configValues, new FakeEncryptor(), $this->configValues, $this->configValues);
        $this->clock = new FixedClock('2026-11-28 08:21:12');
        $this->root = sys_get_temp_dir() . '/leakguard-test-' . bin2hex(random_bytes(6));
        mkdir($this->root . '/var/log', 0777, true);
        $this->session = new Session(new User(['user_id' => 12, 'username' => 'jdoe']));
        $this->request = new Http('customer_index_index', [], ['X-Forwarded-For' => '198.51.100.4, 10.0.0.1', 'X-Request-Id' => 'req-0123456789']);
        $kit = $this;
        $this->logger = new class ($kit) extends AbstractLogger {
            public function __construct(private TestKit $kit)
            {
            }

            public function log($level, $message, array $context = []): void
            {
                $this->kit->logged[] = [(string) $level, (string) $message, $context];
            }
        };
    }

    public function enroll(string $secret = 'tenant-secret'): void
    {
        $this->configValues->values[Config::XML_SERVER_URL] = 'https://leakguard.example';
        $this->configValues->values[Config::XML_KEY_ID] = 'key-1';
        $this->configValues->values[Config::XML_SHARED_SECRET] = (new FakeEncryptor())->encrypt($secret);
    }

    public function requestContext(?Http $request = null): RequestContext
    {
        return new RequestContext(new RemoteAddress('203.0.113.7'), $request ?? $this->request);
    }

    public function currentAdmin(string $area = 'adminhtml'): CurrentAdmin
    {
        return new CurrentAdmin(new State($area), $this->session);
    }

    public function jsonl(): JsonlWriter
    {
        return new JsonlWriter(new DirectoryList($this->root));
    }

    public function recorder(?RequestContext $context = null, string $area = 'adminhtml'): Recorder
    {
        return new Recorder(
            $this->config,
            $this->db,
            $this->jsonl(),
            new Redactor(),
            $context ?? $this->requestContext(),
            $this->currentAdmin($area),
            $this->clock,
            $this->logger
        );
    }

    public function serverClient(HttpClientInterface $http): ServerClient
    {
        return new ServerClient($this->config, new Signer($this->clock), $http, new OutboundQueue($this->db), $this->clock, $this->logger);
    }

    /** @return list<array<string, mixed>> */
    public function adminRows(): array
    {
        return $this->db->fetchAll('SELECT * FROM leakguard_admin_action_log ORDER BY log_id');
    }

    /** @return list<array<string, mixed>> */
    public function jsonlLines(string $file = JsonlWriter::ADMIN_ACTIONS_FILE): array
    {
        $path = $this->root . '/var/log/leakguard/' . $file;
        if (!is_file($path)) {
            return [];
        }
        return array_map(
            static fn (string $line): array => json_decode($line, true, 32, JSON_THROW_ON_ERROR),
            array_values(array_filter(explode("\n", (string) file_get_contents($path))))
        );
    }

    /** Everything the module stored or logged, as one string, for "this secret appears nowhere" checks. */
    public function everythingStored(): string
    {
        $dump = json_encode($this->db->fetchAll('SELECT * FROM leakguard_admin_action_log'))
            . json_encode($this->db->fetchAll('SELECT * FROM leakguard_webapi_log'))
            . json_encode($this->db->fetchAll('SELECT * FROM leakguard_outbound_queue'))
            . json_encode($this->logged);
        foreach (glob($this->root . '/var/log/leakguard/*') ?: [] as $file) {
            $dump .= file_get_contents($file);
        }
        return $dump;
    }

    public function __destruct()
    {
        foreach (glob($this->root . '/var/log/leakguard/*') ?: [] as $file) {
            @unlink($file);
        }
        @rmdir($this->root . '/var/log/leakguard');
        @rmdir($this->root . '/var/log');
        @rmdir($this->root . '/var');
        @rmdir($this->root);
    }
}
