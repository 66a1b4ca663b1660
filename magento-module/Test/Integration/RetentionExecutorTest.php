<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Integration;

use LeakGuard\Connector\Model\Retention\ClassProgress;
use LeakGuard\Connector\Model\Retention\Executor;
use LeakGuard\Connector\Model\Retention\Handler\AbandonedCheckoutPaymentHandler;
use LeakGuard\Connector\Model\Retention\Handler\AdditionalInformationHandler;
use LeakGuard\Connector\Model\Retention\Handler\CardHolderDataHandler;
use LeakGuard\Connector\Model\Retention\Handler\GatewayRawResponseHandler;
use LeakGuard\Connector\Model\Retention\Handler\VaultTokensHandler;
use LeakGuard\Connector\Model\Retention\PayloadCodec;
use LeakGuard\Connector\Model\Retention\Policy;
use LeakGuard\Connector\Model\Retention\ProgressStore;
use LeakGuard\Connector\Console\Command\RetentionRunCommand;
use LeakGuard\Connector\Cron\RetentionRun;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Retention\RetentionService;
use LeakGuard\Connector\Model\Transport\OutboundQueue;
use LeakGuard\Connector\Model\Transport\ServerClient;
use LeakGuard\Connector\Model\Transport\Signer;
use LeakGuard\Connector\Test\Support\ArrayConfig;
use LeakGuard\Connector\Test\Support\FakeEncryptor;
use LeakGuard\Connector\Test\Support\FakeHttpClient;
use LeakGuard\Connector\Test\Support\FixedClock;
use LeakGuard\Connector\Test\Support\MariaDbTestCase;
use Psr\Log\NullLogger;
use Symfony\Component\Console\Tester\CommandTester;

/**
 * Runs the retention executor's SQL on real MariaDB with Magento's payment tables.
 */
class RetentionExecutorTest extends MariaDbTestCase
{
    private const OLD = '2026-01-01 10:00:00';
    private const RECENT = '2026-11-28 11:00:00';
    private const TABLES = [
        'sales_order', 'sales_order_payment', 'sales_payment_transaction', 'quote', 'quote_payment',
        'vault_payment_token', 'vault_payment_token_order_payment_link',
    ];

    /** Orders whose cardholder columns must be cleared: final state (complete/closed/canceled), any age. */
    private const CARD_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 24, 25];

    private function executor(int $batchSize = 4): Executor
    {
        $codec = new PayloadCodec();
        return new Executor(
            $this->db,
            new ProgressStore($this->db),
            new FixedClock(),
            [
                new CardHolderDataHandler(),
                new GatewayRawResponseHandler($codec),
                new VaultTokensHandler(),
                new AbandonedCheckoutPaymentHandler(),
                new AdditionalInformationHandler($codec),
            ],
            $batchSize
        );
    }

    private function policy(): Policy
    {
        return Policy::fromJson((string) file_get_contents(dirname(__DIR__) . '/fixtures/retention-policy.json'));
    }

    private function seed(): void
    {
        for ($id = 1; $id <= 25; $id++) {
            $state = match (true) {
                $id >= 21 && $id <= 23 => 'processing',
                $id % 5 === 0 => 'closed',
                default => 'complete',
            };
            $updated = $id >= 24 ? self::RECENT : self::OLD;
            $this->db->execute(
                'INSERT INTO sales_order (entity_id, state, status, increment_id, customer_email, grand_total,'
                . ' created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
                [$id, $state, $state, sprintf('0000%05d', $id), "c$id@example.com", 10 + $id, self::OLD, $updated]
            );
            $info = match ($id) {
                2 => serialize(['method_title' => 'Credit Card', 'cc_number' => '4111111111111111']),
                4 => 'not a serialized value',
                6 => json_encode(['method_title' => 'Card']),
                default => json_encode([
                    'method_title' => 'Credit Card', 'cc_last_4' => '1111',
                    'iban' => 'DE89370400440532013000', 'account_holder' => 'Jane Doe',
                ]),
            };
            $this->db->execute(
                'INSERT INTO sales_order_payment (entity_id, parent_id, method, cc_type, cc_last_4, cc_owner,'
                . ' cc_exp_month, cc_exp_year, cc_number_enc, cc_trans_id, last_trans_id, amount_ordered,'
                . ' echeck_bank_name, additional_information) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                [
                    $id, $id, 'braintree', 'VI', '1111', 'Jane Doe', '12', '2030',
                    in_array($id, [3, 7], true) ? '0:3:encryptedpan' : null,
                    "txn$id", "txn$id-capture", 10 + $id, $id === 9 ? 'First Bank' : null, $info,
                ]
            );
            $this->db->execute(
                'INSERT INTO sales_payment_transaction (transaction_id, order_id, payment_id, txn_id, txn_type,'
                . ' additional_information, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
                [
                    $id, $id, $id, "txn$id", 'capture',
                    $id % 2 === 0
                        ? json_encode(['raw_details_info' => ['avs' => 'Y', 'pan' => '411111******1111'], 'kept' => 1])
                        : json_encode(['kept' => 1]),
                    self::OLD,
                ]
            );
        }
        // Quotes: 1 converted, 2 abandoned (old, live), 3 live and recent, 4 converted with nothing left to clear.
        $quotes = [[1, 0, self::RECENT], [2, 1, self::OLD], [3, 1, '2026-11-27 12:00:00'], [4, 0, self::OLD]];
        foreach ($quotes as [$id, $active, $updated]) {
            $this->db->execute(
                'INSERT INTO quote (entity_id, is_active, customer_email, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
                [$id, $active, "q$id@example.com", self::OLD, $updated]
            );
            $clean = $id === 4;
            $this->db->execute(
                'INSERT INTO quote_payment (payment_id, quote_id, method, cc_type, cc_last_4, cc_owner, cc_exp_month,'
                . ' cc_exp_year, cc_number_enc, cc_cid_enc, additional_information, created_at, updated_at)'
                . ' VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                [
                    $id, $id, 'checkmo', 'VI', '4242', $clean ? null : 'John Roe', $clean ? null : '01',
                    $clean ? 0 : 2031, $id === 2 ? '0:3:pan' : null, $id === 2 ? '0:3:cvv' : null,
                    $clean ? null : '{"method_title":"Check"}', self::OLD, $updated,
                ]
            );
        }
        // Vault tokens: expired, valid, inactive without expiry, inactive but valid.
        $tokens = [[1, '2025-01-01 00:00:00', 1], [2, '2027-06-01 00:00:00', 1], [3, null, 0], [4, '2028-01-01 00:00:00', 0]];
        foreach ($tokens as [$id, $expires, $active]) {
            $this->db->execute(
                'INSERT INTO vault_payment_token (entity_id, customer_id, public_hash, payment_method_code, type,'
                . ' expires_at, gateway_token, details, is_active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
                [$id, 1, "hash$id", 'braintree', 'card', $expires, "gw$id", '{"maskedCC":"1111"}', $active]
            );
        }
        $this->db->execute(
            'INSERT INTO vault_payment_token_order_payment_link (order_payment_id, payment_token_id) VALUES (1, 1), (2, 2)'
        );
    }

    /** @return array<string, string> table => checksum of its full content */
    private function checksums(): array
    {
        $sums = [];
        foreach (self::TABLES as $table) {
            $rows = $this->db->fetchAll('SELECT * FROM ' . $table . ' ORDER BY 1, 2');
            $sums[$table] = hash('sha256', serialize($rows));
        }
        return $sums;
    }

    /** @return array<string, array<string, mixed>> */
    private function byClass(array $report): array
    {
        $out = [];
        foreach ($report['classes'] as $class) {
            $out[$class['class']] = $class;
        }
        return $out;
    }

    /** Independent computation of the documented id hash chain. */
    private static function chain(array $ids): string
    {
        $hash = hash('sha256', '');
        foreach ($ids as $id) {
            $hash = hash('sha256', $hash . ':' . $id);
        }
        return $hash;
    }

    public function test_a_full_run_clears_payment_data_and_keeps_order_history(): void
    {
        $this->seed();
        $report = $this->executor()->run($this->policy());
        $classes = $this->byClass($report);

        self::assertSame(3, $report['policy_version']);
        self::assertFalse($report['dry_run']);
        self::assertSame(count(self::CARD_IDS), $classes['card_holder_data']['rows_affected']);
        self::assertSame(self::chain(self::CARD_IDS), $classes['card_holder_data']['affected_ids_sha256']);
        self::assertSame([['code' => 'cc_number_enc_present', 'rows' => 2]], $classes['card_holder_data']['alerts']);
        self::assertSame(1, $classes['card_holder_data']['first_affected_id']);
        self::assertSame(25, $classes['card_holder_data']['last_affected_id']);

        $payment = $this->db->fetchAll('SELECT * FROM sales_order_payment WHERE entity_id = 3')[0];
        foreach (CardHolderDataHandler::COLUMNS as $column) {
            self::assertNull($payment[$column], $column . ' must be cleared');
        }
        self::assertSame('braintree', $payment['method']);
        self::assertSame('1111', $payment['cc_last_4']);
        self::assertSame('VI', $payment['cc_type']);
        self::assertSame('13.0000', $payment['amount_ordered']);
        self::assertSame('txn3', $payment['cc_trans_id']);
        self::assertNull($this->db->fetchOne('SELECT echeck_bank_name FROM sales_order_payment WHERE entity_id = 9'));

        // Orders in progress keep their card data.
        self::assertSame('Jane Doe', $this->db->fetchOne('SELECT cc_owner FROM sales_order_payment WHERE entity_id = 22'));
        // Order history is intact.
        self::assertSame(25, (int) $this->db->fetchOne('SELECT COUNT(*) FROM sales_order'));
        self::assertSame('575.0000', $this->db->fetchOne('SELECT SUM(grand_total) FROM sales_order'));
        self::assertSame(25, (int) $this->db->fetchOne('SELECT COUNT(*) FROM sales_order_payment'));
        self::assertSame(25, (int) $this->db->fetchOne('SELECT COUNT(*) FROM sales_payment_transaction'));

        // Gateway raw responses: even transactions of final orders older than 30 days (2..20 even).
        self::assertSame(10, $classes['gateway_raw_response']['rows_affected']);
        self::assertSame(
            ['kept' => 1],
            json_decode((string) $this->db->fetchOne('SELECT additional_information FROM sales_payment_transaction WHERE transaction_id = 2'), true)
        );
        self::assertStringContainsString(
            'raw_details_info',
            (string) $this->db->fetchOne('SELECT additional_information FROM sales_payment_transaction WHERE transaction_id = 22')
        );

        // Vault: expired (1) and inactive (3, 4) deleted; valid (2) kept with its order link.
        self::assertSame(3, $classes['vault_tokens']['rows_affected']);
        self::assertSame(['2'], array_map('strval', array_column($this->db->fetchAll('SELECT entity_id FROM vault_payment_token'), 'entity_id')));
        self::assertSame(1, (int) $this->db->fetchOne('SELECT COUNT(*) FROM vault_payment_token_order_payment_link'));

        // Quotes: converted (1) and abandoned (2) cleared; live (3) and already clean (4) untouched.
        self::assertSame(2, $classes['abandoned_checkout_payment']['rows_affected']);
        self::assertEqualsCanonicalizing(
            [['code' => 'cc_number_enc_present', 'rows' => 1], ['code' => 'cc_cid_enc_present', 'rows' => 1]],
            $classes['abandoned_checkout_payment']['alerts']
        );
        $abandoned = $this->db->fetchAll('SELECT * FROM quote_payment WHERE payment_id = 2')[0];
        self::assertNull($abandoned['cc_cid_enc']);
        self::assertNull($abandoned['cc_number_enc']);
        self::assertNull($abandoned['cc_owner']);
        self::assertSame('0', (string) $abandoned['cc_exp_year']);
        self::assertSame('4242', $abandoned['cc_last_4']);
        self::assertSame('John Roe', $this->db->fetchOne('SELECT cc_owner FROM quote_payment WHERE payment_id = 3'));

        // additional_information: final orders older than 90 days (1..20) minus the JSON without extra keys (6)
        // and the undecodable one (4): 18 rows.
        self::assertSame(18, $classes['additional_information']['rows_affected']);
        self::assertSame(1, $classes['additional_information']['undecodable']);
        self::assertSame(
            ['method_title' => 'Credit Card', 'cc_last_4' => '1111'],
            json_decode((string) $this->db->fetchOne('SELECT additional_information FROM sales_order_payment WHERE entity_id = 1'), true)
        );
        self::assertSame(
            ['method_title' => 'Credit Card'],
            unserialize((string) $this->db->fetchOne('SELECT additional_information FROM sales_order_payment WHERE entity_id = 2'))
        );
        self::assertSame('not a serialized value', $this->db->fetchOne('SELECT additional_information FROM sales_order_payment WHERE entity_id = 4'));
        self::assertStringContainsString('iban', (string) $this->db->fetchOne('SELECT additional_information FROM sales_order_payment WHERE entity_id = 24'));
    }

    public function test_a_second_run_changes_and_counts_nothing(): void
    {
        $this->seed();
        $this->executor()->run($this->policy());
        $before = $this->checksums();

        $second = $this->byClass($this->executor(7)->run($this->policy()));

        self::assertSame($before, $this->checksums());
        foreach ($second as $class => $entry) {
            self::assertSame('complete', $entry['status'], $class);
            self::assertSame(0, $entry['rows_affected'], $class);
            self::assertSame(hash('sha256', ''), $entry['affected_ids_sha256'], $class);
            self::assertSame([], $entry['alerts'], $class);
        }
    }

    public function test_a_dry_run_reports_the_same_counts_and_changes_nothing(): void
    {
        $this->seed();
        $before = $this->checksums();

        $dry = $this->byClass($this->executor()->run($this->policy(), true));

        self::assertSame($before, $this->checksums());
        self::assertSame(0, (int) $this->db->fetchOne('SELECT COUNT(*) FROM leakguard_retention_progress'));
        $real = $this->byClass($this->executor()->run($this->policy()));
        self::assertNotSame($before, $this->checksums());
        foreach ($real as $class => $entry) {
            self::assertSame($entry['rows_affected'], $dry[$class]['rows_affected'], $class);
            self::assertSame($entry['affected_ids_sha256'], $dry[$class]['affected_ids_sha256'], $class);
            self::assertSame($entry['alerts'], $dry[$class]['alerts'], $class);
        }
    }

    public function test_a_run_resumed_after_a_failure_between_batches_does_not_double_count(): void
    {
        $this->seed();
        $executor = $this->executor(4);
        $executor->setBatchListener(static function (string $class, ClassProgress $progress): void {
            if ($class === 'card_holder_data' && $progress->batches === 2) {
                throw new \RuntimeException('injected failure after batch 2');
            }
        });
        try {
            $executor->run($this->policy());
            self::fail('the injected failure must stop the run');
        } catch (\RuntimeException $e) {
            self::assertSame('injected failure after batch 2', $e->getMessage());
        }
        $stored = (new ProgressStore($this->db))->load('card_holder_data');
        self::assertNotNull($stored);
        self::assertSame(ClassProgress::STATUS_RUNNING, $stored->status);
        self::assertSame(8, $stored->lastId);
        self::assertSame(8, $stored->rowsAffected);
        // The first two batches are committed; the third range is untouched.
        self::assertNull($this->db->fetchOne('SELECT cc_owner FROM sales_order_payment WHERE entity_id = 8'));
        self::assertSame('Jane Doe', $this->db->fetchOne('SELECT cc_owner FROM sales_order_payment WHERE entity_id = 9'));

        $resumed = $this->byClass($this->executor(4)->run($this->policy()))['card_holder_data'];

        self::assertTrue($resumed['resumed']);
        self::assertSame($stored->runId, $resumed['class_run_id']);
        self::assertSame(count(self::CARD_IDS), $resumed['rows_affected']);
        self::assertSame(self::chain(self::CARD_IDS), $resumed['affected_ids_sha256']);
        self::assertSame([['code' => 'cc_number_enc_present', 'rows' => 2]], $resumed['alerts']);
        self::assertSame(7, $resumed['batches']);
        self::assertSame(0, (int) $this->db->fetchOne('SELECT COUNT(*) FROM sales_order_payment WHERE cc_owner IS NOT NULL AND parent_id NOT IN (21, 22, 23)'));
    }

    public function test_a_failing_batch_is_rolled_back_with_its_progress(): void
    {
        $this->seed();
        $this->db->execute("UPDATE sales_order_payment SET cc_exp_year = '9999' WHERE entity_id = 6");
        // A trigger makes the second batch's UPDATE fail inside the transaction.
        $this->db->execute(
            "CREATE TRIGGER lg_fail BEFORE UPDATE ON sales_order_payment FOR EACH ROW
             BEGIN IF OLD.cc_exp_year = '9999' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'; END IF; END"
        );
        try {
            $this->executor(4)->run($this->policy());
            self::fail('the trigger must abort the run');
        } catch (\PDOException $e) {
            self::assertStringContainsString('boom', $e->getMessage());
        }
        $stored = (new ProgressStore($this->db))->load('card_holder_data');
        self::assertSame(4, $stored->lastId);
        self::assertSame('Jane Doe', $this->db->fetchOne('SELECT cc_owner FROM sales_order_payment WHERE entity_id = 5'));
        self::assertNull($this->db->fetchOne('SELECT cc_owner FROM sales_order_payment WHERE entity_id = 4'));
    }

    public function test_a_second_concurrent_run_is_refused(): void
    {
        $this->seed();
        $other = $this->newConnection();
        self::assertSame(1, (int) $other->fetchOne('SELECT GET_LOCK(' . Executor::LOCK_NAME_SQL . ', 0)'));
        try {
            $this->expectException(\RuntimeException::class);
            $this->expectExceptionMessage('another retention run holds the lock');
            $this->executor()->run($this->policy());
        } finally {
            $other->fetchOne('SELECT RELEASE_LOCK(' . Executor::LOCK_NAME_SQL . ')');
        }
    }

    public function test_unknown_classes_and_actions_are_reported_not_applied(): void
    {
        $this->seed();
        $before = $this->checksums();
        $policy = Policy::fromJson(json_encode(['version' => 4, 'classes' => [
            ['class' => 'loyalty_points', 'max_age_days' => 1, 'anchor' => 'x', 'action' => 'delete'],
            ['class' => 'card_holder_data', 'max_age_days' => 0, 'anchor' => 'order_completion', 'action' => 'delete'],
        ]]));
        $classes = $this->byClass($this->executor()->run($policy));
        self::assertSame('unsupported', $classes['loyalty_points']['status']);
        self::assertSame('unsupported', $classes['card_holder_data']['status']);
        self::assertStringContainsString('unsupported action "delete"', $classes['card_holder_data']['reason']);
        self::assertSame($before, $this->checksums());
    }

    /** @return array{0: RetentionService, 1: FakeHttpClient, 2: ArrayConfig} */
    private function service(string $policyJson): array
    {
        $values = new ArrayConfig([
            Config::XML_SERVER_URL => 'https://leakguard.example',
            Config::XML_KEY_ID => 'key-1',
            Config::XML_SHARED_SECRET => (new FakeEncryptor())->encrypt('tenant-secret'),
            Config::XML_RETENTION_BATCH_SIZE => '5',
        ]);
        $config = new Config($values, new FakeEncryptor(), $values, $values);
        $clock = new FixedClock();
        $http = new FakeHttpClient();
        $http->answer(200, $policyJson);
        $client = new ServerClient($config, new Signer($clock), $http, new OutboundQueue($this->db), $clock, new NullLogger());
        return [new RetentionService($client, $this->executor(), $config), $http, $values];
    }

    public function test_the_command_dry_run_fetches_the_signed_policy_and_reports_nothing(): void
    {
        $this->seed();
        $before = $this->checksums();
        $policy = (string) file_get_contents(dirname(__DIR__) . '/fixtures/retention-policy.json');
        [$service, $http] = $this->service($policy);
        $tester = new CommandTester(new RetentionRunCommand($service));

        self::assertSame(0, $tester->execute(['--dry-run' => true]));
        self::assertSame($before, $this->checksums());
        self::assertCount(1, $http->requests);
        self::assertSame('GET', $http->requests[0]['method']);
        self::assertSame('https://leakguard.example/api/v1/magento/retention-policy', $http->requests[0]['url']);
        self::assertMatchesRegularExpression('/^v1=[0-9a-f]{64}$/', $http->requests[0]['headers']['X-LeakGuard-Signature']);
        $display = $tester->getDisplay();
        self::assertStringContainsString('Policy version 3 (dry run, nothing changed):', $display);
        self::assertMatchesRegularExpression('/card_holder_data\s+22 rows in sales_order_payment\s+ALERT: cc_number_enc_present=2/', $display);
    }

    public function test_a_real_run_posts_the_report_with_counts_and_hashes(): void
    {
        $this->seed();
        $policy = (string) file_get_contents(dirname(__DIR__) . '/fixtures/retention-policy.json');
        [$service, $http] = $this->service($policy);
        $tester = new CommandTester(new RetentionRunCommand($service));

        self::assertSame(0, $tester->execute([]));
        self::assertStringContainsString('Report sent.', $tester->getDisplay());
        self::assertSame('https://leakguard.example/api/v1/magento/retention-reports', $http->requests[1]['url']);
        $report = json_decode($http->requests[1]['body'], true);
        self::assertSame(3, $report['policy_version']);
        self::assertSame(hash('sha256', $policy), $report['policy_sha256']);
        self::assertFalse($report['dry_run']);
        self::assertSame('1.0.0', $report['module_version']);
        $classes = $this->byClass($report);
        self::assertSame(22, $classes['card_holder_data']['rows_affected']);
        self::assertSame(self::chain(self::CARD_IDS), $classes['card_holder_data']['affected_ids_sha256']);
        self::assertSame('2026-11-28T12:00:00Z', $classes['card_holder_data']['cutoff']);
        self::assertSame('2026-10-29T12:00:00Z', $classes['gateway_raw_response']['cutoff']);
        self::assertSame(5, $classes['card_holder_data']['batches']);
    }

    public function test_the_cron_job_runs_only_when_retention_is_enabled(): void
    {
        $this->seed();
        $before = $this->checksums();
        $policy = (string) file_get_contents(dirname(__DIR__) . '/fixtures/retention-policy.json');
        [$service, $http, $values] = $this->service($policy);
        $config = new Config($values, new FakeEncryptor(), $values, $values);
        (new RetentionRun($config, $service))->execute();
        self::assertSame([], $http->requests);
        self::assertSame($before, $this->checksums());

        $values->values[Config::XML_RETENTION_ENABLED] = '1';
        (new RetentionRun($config, $service))->execute();
        self::assertCount(2, $http->requests);
        self::assertNotSame($before, $this->checksums());
    }

    public function test_a_policy_fetch_failure_fails_the_command_without_changes(): void
    {
        $this->seed();
        $before = $this->checksums();
        [$service, $http] = $this->service('');
        $http->answers = [];
        $http->answer(503);
        $tester = new CommandTester(new RetentionRunCommand($service));
        self::assertSame(1, $tester->execute([]));
        self::assertStringContainsString('Retention run failed: LeakGuard server answered 503 to GET /api/v1/magento/retention-policy', $tester->getDisplay());
        self::assertSame($before, $this->checksums());
    }
}
