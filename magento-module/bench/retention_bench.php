<?php
/**
 * Retention executor benchmark on MariaDB (not run by the tests).
 *
 * Seeds N completed orders with card data and gateway additional_information into a scratch database
 * `leakguard_bench_<random>`, runs the executor for the card_holder_data and additional_information classes,
 * and prints rows/s and the longest single batch transaction (the longest time row locks were held).
 * The scratch database is dropped at the end.
 *
 * Usage: php bench/retention_bench.php [N=1000000] [batch_size=1000]
 * Env: LEAKGUARD_TEST_MYSQL_HOST/PORT/USER/PASSWORD (default 127.0.0.1:3306 root, no password).
 */
declare(strict_types=1);

use LeakGuard\Connector\Model\Clock;
use LeakGuard\Connector\Model\Db\PdoConnection;
use LeakGuard\Connector\Model\Retention\Executor;
use LeakGuard\Connector\Model\Retention\Handler\AdditionalInformationHandler;
use LeakGuard\Connector\Model\Retention\Handler\CardHolderDataHandler;
use LeakGuard\Connector\Model\Retention\PayloadCodec;
use LeakGuard\Connector\Model\Retention\Policy;
use LeakGuard\Connector\Model\Retention\ProgressStore;
use LeakGuard\Connector\Test\Support\DbSchemaSql;

require dirname(__DIR__) . '/Test/bootstrap.php';

$rows = (int) ($argv[1] ?? 1000000);
$batchSize = (int) ($argv[2] ?? 1000);
$host = getenv('LEAKGUARD_TEST_MYSQL_HOST') ?: '127.0.0.1';
$port = getenv('LEAKGUARD_TEST_MYSQL_PORT') ?: '3306';
$user = getenv('LEAKGUARD_TEST_MYSQL_USER') ?: 'root';
$password = getenv('LEAKGUARD_TEST_MYSQL_PASSWORD') ?: '';
$database = 'leakguard_bench_' . bin2hex(random_bytes(4));

$admin = new PDO("mysql:host=$host;port=$port;charset=utf8mb4", $user, $password, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
$admin->exec("CREATE DATABASE $database CHARACTER SET utf8mb4");
try {
    $pdo = new PDO("mysql:host=$host;port=$port;dbname=$database;charset=utf8mb4", $user, $password, [PDO::ATTR_ERRMODE => PDO::ERRMODE_EXCEPTION]);
    $pdo->exec("SET time_zone = '+00:00'");
    $core = (string) file_get_contents(dirname(__DIR__) . '/Test/fixtures/magento-core-tables.sql');
    foreach (array_filter(array_map('trim', explode(';', (string) preg_replace('/^--.*$/m', '', $core)))) as $sql) {
        $pdo->exec($sql);
    }
    foreach (DbSchemaSql::createStatements(dirname(__DIR__) . '/etc/db_schema.xml') as $sql) {
        $pdo->exec($sql);
    }

    $seedStart = microtime(true);
    // MariaDB's SEQUENCE engine generates the ids; chunks keep the undo log small.
    for ($from = 1; $from <= $rows; $from += 100000) {
        $to = min($rows, $from + 99999);
        $pdo->exec("INSERT INTO sales_order (entity_id, state, status, increment_id, customer_email, grand_total, created_at, updated_at)
            SELECT seq, 'complete', 'complete', LPAD(seq, 10, '0'), CONCAT('c', seq, '@example.com'), 10 + (seq % 90),
                   '2025-01-01 00:00:00', '2025-01-02 00:00:00' FROM seq_{$from}_to_{$to}");
        $pdo->exec("INSERT INTO sales_order_payment (entity_id, parent_id, method, cc_type, cc_last_4, cc_owner, cc_exp_month,
                cc_exp_year, cc_number_enc, cc_trans_id, amount_ordered, additional_information)
            SELECT seq, seq, 'braintree', 'VI', '1111', 'Jane Doe', '12', '2030', IF(seq % 1000 = 0, '0:3:pan', NULL),
                   CONCAT('txn', seq), 10, '{\"method_title\":\"Credit Card\",\"cc_last_4\":\"1111\",\"iban\":\"DE89370400440532013000\",\"holder\":\"Jane Doe\"}'
            FROM seq_{$from}_to_{$to}");
    }
    $seedSeconds = microtime(true) - $seedStart;

    $db = new PdoConnection($pdo);
    $codec = new PayloadCodec();
    $executor = new Executor($db, new ProgressStore($db), new Clock(), [new CardHolderDataHandler(), new AdditionalInformationHandler($codec)], $batchSize);

    printf("MariaDB %s, %d sales_order_payment rows (seeded in %.1f s), batch size %d\n",
        $pdo->query('SELECT VERSION()')->fetchColumn(), $rows, $seedSeconds, $batchSize);
    foreach ([
        ['class' => 'card_holder_data', 'max_age_days' => 0, 'anchor' => 'order_completion', 'action' => 'null'],
        ['class' => 'additional_information', 'max_age_days' => 0, 'anchor' => 'order_completion', 'action' => 'redact_keys', 'allow_keys' => ['method_title', 'cc_last_4']],
    ] as $entry) {
        $policy = Policy::fromJson((string) json_encode(['version' => 1, 'classes' => [$entry]]));
        $start = microtime(true);
        $report = $executor->run($policy);
        $seconds = microtime(true) - $start;
        $class = $report['classes'][0];
        $again = microtime(true);
        $second = $executor->run($policy)['classes'][0];
        $secondSeconds = microtime(true) - $again;
        printf("%-24s %9d rows changed in %7.2f s = %9.0f rows/s; %d batches; longest batch transaction %d ms; alerts %s; idempotent re-run: %d rows in %.2f s\n",
            $class['class'], $class['rows_affected'], $seconds, $class['rows_affected'] / max($seconds, 1e-9), $class['batches'],
            $class['max_transaction_ms'], json_encode($class['alerts']), $second['rows_affected'], $secondSeconds);
    }
} finally {
    $admin->exec("DROP DATABASE IF EXISTS $database");
}
