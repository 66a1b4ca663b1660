<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Console\Command;

use LeakGuard\Connector\Model\Retention\RetentionService;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * bin/magento leakguard:retention:run [--dry-run]: fetches the retention policy and applies it in batches.
 * A dry run counts what would change, writes nothing and reports nothing to the server.
 */
class RetentionRunCommand extends Command
{
    public function __construct(private readonly RetentionService $service)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setName('leakguard:retention:run')
            ->setDescription('Apply the LeakGuard payment-data retention policy')
            ->addOption('dry-run', null, InputOption::VALUE_NONE, 'Count what would change; change nothing');
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $dryRun = (bool) $input->getOption('dry-run');
        try {
            $result = $this->service->run($dryRun);
        } catch (\Throwable $e) {
            $output->writeln('<error>Retention run failed: ' . $e->getMessage() . '</error>');
            return 1;
        }
        $report = $result['report'];
        $output->writeln(sprintf('Policy version %d%s:', $report['policy_version'], $dryRun ? ' (dry run, nothing changed)' : ''));
        foreach ($report['classes'] as $class) {
            if ($class['status'] !== 'complete') {
                $output->writeln(sprintf('  %-28s skipped: %s', $class['class'], $class['reason'] ?? $class['status']));
                continue;
            }
            $alerts = implode(', ', array_map(static fn (array $a): string => $a['code'] . '=' . $a['rows'], $class['alerts']));
            $output->writeln(sprintf(
                '  %-28s %8d rows in %s%s',
                $class['class'],
                $class['rows_affected'],
                $class['table'],
                $alerts === '' ? '' : '  ALERT: ' . $alerts
            ));
        }
        if (!$dryRun) {
            $output->writeln($result['delivered'] ? 'Report sent.' : 'Report queued for retry.');
        }
        return 0;
    }
}
