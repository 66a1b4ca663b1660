<?php
/**
 * End-to-end retention driver: the module's own production classes (Enrollment, ServerClient, Signer,
 * RetentionService, Executor, the handlers, ProgressStore, OutboundQueue) outside Magento, over a PDO
 * connection to a real MariaDB database and a real HTTP client (php-curl) talking to a LeakGuard server.
 *
 *   php Test/e2e/retention_e2e.php --server http://127.0.0.1:8080 --database lg_e2e_x --state /tmp/state.json \
 *       [--enrollment-token TOKEN] [--base-url https://shop.example] [--batch-size N] [--dry-run]
 *
 * What Magento keeps in core_config_data (server URL, key id, encrypted secret) lives in the --state file
 * (mode 0600) between runs: the first run enrolls with the token, later runs reuse the key. The module's
 * own tables (etc/db_schema.xml) are created when missing, as `setup:upgrade` would.
 * Database: 127.0.0.1:3306 root without password unless LEAKGUARD_TEST_MYSQL_HOST/PORT/USER/PASSWORD say otherwise.
 *
 * Prints one JSON object: {"enrolled_now", "tenant_id", "delivered", "queued", "report"}. Exit 1 with
 * {"error": "..."} on failure. Neither the secret nor the token is ever printed.
 */
declare(strict_types=1);

namespace LeakGuard\Connector\Test\E2e;

require dirname(__DIR__) . '/bootstrap.php';

use LeakGuard\Connector\Model\Clock;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Db\PdoConnection;
use LeakGuard\Connector\Model\Retention\Executor;
use LeakGuard\Connector\Model\Retention\Handler\AbandonedCheckoutPaymentHandler;
use LeakGuard\Connector\Model\Retention\Handler\AdditionalInformationHandler;
use LeakGuard\Connector\Model\Retention\Handler\CardHolderDataHandler;
use LeakGuard\Connector\Model\Retention\Handler\GatewayRawResponseHandler;
use LeakGuard\Connector\Model\Retention\Handler\VaultTokensHandler;
use LeakGuard\Connector\Model\Retention\PayloadCodec;
use LeakGuard\Connector\Model\Retention\ProgressStore;
use LeakGuard\Connector\Model\Retention\RetentionService;
use LeakGuard\Connector\Model\Transport\Enrollment;
use LeakGuard\Connector\Model\Transport\HttpClientInterface;
use LeakGuard\Connector\Model\Transport\HttpResponse;
use LeakGuard\Connector\Model\Transport\OutboundQueue;
use LeakGuard\Connector\Model\Transport\ServerClient;
use LeakGuard\Connector\Model\Transport\Signer;
use LeakGuard\Connector\Model\Transport\TransportException;
use LeakGuard\Connector\Test\Support\ArrayConfig;
use LeakGuard\Connector\Test\Support\DbSchemaSql;
use LeakGuard\Connector\Test\Support\FakeEncryptor;
use Psr\Log\AbstractLogger;

/** {@see HttpClientInterface} over php-curl: real sockets, real HTTP/1.1. */
final class CurlHttpClient implements HttpClientInterface
{
    public function request(string $method, string $url, array $headers, string $body): HttpResponse
    {
        $handle = curl_init($url);
        if ($handle === false) {
            throw new TransportException('curl_init failed', true);
        }
        $lines = [];
        foreach ($headers as $name => $value) {
            $lines[] = $name . ': ' . $value;
        }
        $lines[] = 'Expect:';
        curl_setopt_array($handle, [
            CURLOPT_CUSTOMREQUEST => $method,
            CURLOPT_HTTPHEADER => $lines,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT => 5,
            CURLOPT_TIMEOUT => 30,
            CURLOPT_FOLLOWLOCATION => false,
        ]);
        if ($method !== 'GET') {
            curl_setopt($handle, CURLOPT_POSTFIELDS, $body);
        }
        $answer = curl_exec($handle);
        if ($answer === false) {
            $error = curl_error($handle);
            curl_close($handle);
            throw new TransportException('LeakGuard server unreachable for ' . $method . ' ' . (string) parse_url($url, PHP_URL_PATH) . ': ' . $error, true);
        }
        $status = (int) curl_getinfo($handle, CURLINFO_RESPONSE_CODE);
        curl_close($handle);
        return new HttpResponse($status, (string) $answer);
    }
}

/** Collects log lines for the summary (stderr would interleave with PHP's own warnings). */
final class MemoryLogger extends AbstractLogger
{
    /** @var list<string> */
    public array $lines = [];

    public function log($level, $message, array $context = []): void
    {
        $this->lines[] = $level . ': ' . $message;
    }
}

/** @return array<string, string|bool> */
function options(array $argv): array
{
    $options = [];
    for ($i = 1; $i < count($argv); $i++) {
        $arg = $argv[$i];
        if (!str_starts_with($arg, '--')) {
            throw new \InvalidArgumentException('unexpected argument ' . $arg);
        }
        $name = substr($arg, 2);
        if ($name === 'dry-run') {
            $options[$name] = true;
            continue;
        }
        if (!isset($argv[$i + 1])) {
            throw new \InvalidArgumentException('--' . $name . ' needs a value');
        }
        $options[$name] = $argv[++$i];
    }
    foreach (['server', 'database', 'state'] as $required) {
        if (!is_string($options[$required] ?? null) || $options[$required] === '') {
            throw new \InvalidArgumentException('--' . $required . ' is required');
        }
    }
    if (preg_match('/^[A-Za-z0-9_]{1,64}$/', (string) $options['database']) !== 1) {
        throw new \InvalidArgumentException('--database must be a plain identifier');
    }
    return $options;
}

function connect(string $database): \PDO
{
    $dsn = 'mysql:host=' . (getenv('LEAKGUARD_TEST_MYSQL_HOST') ?: '127.0.0.1')
        . ';port=' . (getenv('LEAKGUARD_TEST_MYSQL_PORT') ?: '3306') . ';charset=utf8mb4;dbname=' . $database;
    $pdo = new \PDO(
        $dsn,
        getenv('LEAKGUARD_TEST_MYSQL_USER') ?: 'root',
        getenv('LEAKGUARD_TEST_MYSQL_PASSWORD') ?: '',
        [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION, \PDO::ATTR_TIMEOUT => 5]
    );
    // Magento stores UTC in its TIMESTAMP columns and runs its connection in UTC.
    $pdo->exec("SET time_zone = '+00:00'");
    return $pdo;
}

/** Creates the module's tables when missing (what `bin/magento setup:upgrade` does from etc/db_schema.xml). */
function installModuleSchema(\PDO $pdo): void
{
    $present = $pdo->query("SHOW TABLES LIKE 'leakguard_retention_progress'")->fetchAll(\PDO::FETCH_COLUMN);
    if ($present !== []) {
        return;
    }
    foreach (DbSchemaSql::createStatements(dirname(__DIR__, 2) . '/etc/db_schema.xml') as $sql) {
        $pdo->exec($sql);
    }
}

/** @return array<string, mixed> */
function loadState(string $path): array
{
    if (!is_file($path)) {
        return [];
    }
    $state = json_decode((string) file_get_contents($path), true);
    return is_array($state) ? $state : [];
}

function saveState(string $path, array $values): void
{
    $tmp = $path . '.tmp';
    file_put_contents($tmp, json_encode($values, JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR));
    chmod($tmp, 0600);
    rename($tmp, $path);
}

function main(array $argv): int
{
    $options = options($argv);
    $statePath = (string) $options['state'];
    $values = new ArrayConfig(loadState($statePath) + [
        Config::XML_BASE_URL => (string) ($options['base-url'] ?? 'https://shop.example') . '/',
    ]);
    $values->values[Config::XML_SERVER_URL] = (string) $options['server'];
    if (isset($options['batch-size'])) {
        $values->values[Config::XML_RETENTION_BATCH_SIZE] = (string) $options['batch-size'];
    }
    $config = new Config($values, new FakeEncryptor(), $values, $values);
    $http = new CurlHttpClient();
    $clock = new Clock();
    $logger = new MemoryLogger();

    $enrolledNow = false;
    if (!$config->isEnrolled()) {
        $token = (string) ($options['enrollment-token'] ?? '');
        if ($token === '') {
            throw new \InvalidArgumentException('not enrolled: pass --enrollment-token');
        }
        (new Enrollment($config, $http))->enroll($token);
        $enrolledNow = true;
        $persisted = $values->values;
        unset($persisted[Config::XML_SERVER_URL], $persisted[Config::XML_RETENTION_BATCH_SIZE]);
        saveState($statePath, $persisted);
    }

    $pdo = connect((string) $options['database']);
    installModuleSchema($pdo);
    $db = new PdoConnection($pdo);
    $codec = new PayloadCodec();
    $executor = new Executor($db, new ProgressStore($db), $clock, [
        new CardHolderDataHandler(),
        new GatewayRawResponseHandler($codec),
        new VaultTokensHandler(),
        new AbandonedCheckoutPaymentHandler(),
        new AdditionalInformationHandler($codec),
    ]);
    $client = new ServerClient($config, new Signer($clock), $http, new OutboundQueue($db), $clock, $logger);
    $result = (new RetentionService($client, $executor, $config))->run((bool) ($options['dry-run'] ?? false));

    echo json_encode([
        'enrolled_now' => $enrolledNow,
        'tenant_id' => $config->getTenantId(),
        'delivered' => $result['delivered'],
        'queued' => (int) $db->fetchOne('SELECT COUNT(*) FROM ' . OutboundQueue::TABLE),
        'log' => $logger->lines,
        'report' => $result['report'],
    ], JSON_UNESCAPED_SLASHES | JSON_THROW_ON_ERROR), "\n";
    return 0;
}

try {
    exit(main($argv));
} catch (\Throwable $e) {
    echo json_encode(['error' => get_class($e) . ': ' . $e->getMessage()], JSON_UNESCAPED_SLASHES), "\n";
    exit(1);
}
