<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Support;

use LeakGuard\Connector\Model\Db\PdoConnection;
use PHPUnit\Framework\TestCase;

/**
 * Base for tests that run SQL on the real MariaDB at 127.0.0.1:3306 (root, no password; override with
 * LEAKGUARD_TEST_MYSQL_HOST/PORT/USER/PASSWORD). Each test class gets a fresh database
 * `leakguard_php_test_<random>`, dropped afterwards; each test starts from empty tables.
 *
 * When the server is unreachable the tests fail if CI=true and are skipped (with a loud message) otherwise.
 */
abstract class MariaDbTestCase extends TestCase
{
    private static ?\PDO $admin = null;
    private static ?string $database = null;
    private static ?string $unavailable = null;
    protected PdoConnection $db;

    public static function setUpBeforeClass(): void
    {
        self::$unavailable = null;
        try {
            self::$admin = self::connect(null);
        } catch (\PDOException $e) {
            self::$unavailable = 'MariaDB at ' . self::dsnHost() . ' is unreachable: ' . $e->getMessage();
            return;
        }
        self::$database = 'leakguard_php_test_' . bin2hex(random_bytes(6));
        self::$admin->exec('CREATE DATABASE ' . self::$database . ' CHARACTER SET utf8mb4');
    }

    public static function tearDownAfterClass(): void
    {
        if (self::$admin !== null && self::$database !== null) {
            self::$admin->exec('DROP DATABASE IF EXISTS ' . self::$database);
        }
        self::$admin = null;
        self::$database = null;
    }

    protected function setUp(): void
    {
        if (self::$unavailable !== null) {
            if (getenv('CI') === 'true') {
                self::fail(self::$unavailable . ' (CI=true: the database is required)');
            }
            fwrite(STDERR, "\n*** SKIPPING MariaDB TEST: " . self::$unavailable . " ***\n");
            self::markTestSkipped(self::$unavailable);
        }
        $pdo = self::connect((string) self::$database);
        $tables = $pdo->query('SHOW TABLES')->fetchAll(\PDO::FETCH_COLUMN);
        if ($tables === []) {
            $core = (string) file_get_contents(dirname(__DIR__) . '/fixtures/magento-core-tables.sql');
            foreach (array_filter(array_map('trim', explode(';', (string) preg_replace('/^--.*$/m', '', $core)))) as $sql) {
                $pdo->exec($sql);
            }
            foreach (DbSchemaSql::createStatements(dirname(__DIR__, 2) . '/etc/db_schema.xml') as $sql) {
                $pdo->exec($sql);
            }
        } else {
            // Same tables for every test of the class: empty them (and drop test triggers) instead of recreating.
            foreach ($pdo->query('SHOW TRIGGERS')->fetchAll(\PDO::FETCH_ASSOC) as $trigger) {
                $pdo->exec('DROP TRIGGER `' . $trigger['Trigger'] . '`');
            }
            $pdo->exec('SET FOREIGN_KEY_CHECKS = 0');
            foreach ($tables as $table) {
                $pdo->exec('TRUNCATE TABLE `' . $table . '`');
            }
            $pdo->exec('SET FOREIGN_KEY_CHECKS = 1');
        }
        $this->db = new PdoConnection($pdo);
    }

    /** A second, independent connection to the test database (for lock and concurrency checks). */
    protected function newConnection(): PdoConnection
    {
        return new PdoConnection(self::connect((string) self::$database));
    }

    private static function connect(?string $database): \PDO
    {
        $dsn = 'mysql:host=' . self::dsnHost() . ';port=' . (getenv('LEAKGUARD_TEST_MYSQL_PORT') ?: '3306')
            . ';charset=utf8mb4' . ($database !== null ? ';dbname=' . $database : '');
        $pdo = new \PDO(
            $dsn,
            getenv('LEAKGUARD_TEST_MYSQL_USER') ?: 'root',
            getenv('LEAKGUARD_TEST_MYSQL_PASSWORD') ?: '',
            [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION, \PDO::ATTR_TIMEOUT => 5]
        );
        $pdo->exec("SET time_zone = '+00:00'");
        return $pdo;
    }

    private static function dsnHost(): string
    {
        return getenv('LEAKGUARD_TEST_MYSQL_HOST') ?: '127.0.0.1';
    }
}
