<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Console\Command;

use LeakGuard\Connector\Model\Permissions\Reporter;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * bin/magento leakguard:permissions:report [--print] [--no-send]: builds the integration and admin permission
 * snapshot and sends it to the server (queued when the server is down).
 */
class PermissionsReportCommand extends Command
{
    public function __construct(private readonly Reporter $reporter)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setName('leakguard:permissions:report')
            ->setDescription('Send a snapshot of integrations, admin users and their ACL grants to LeakGuard')
            ->addOption('print', null, InputOption::VALUE_NONE, 'Print the snapshot JSON')
            ->addOption('no-send', null, InputOption::VALUE_NONE, 'Build the snapshot without sending it');
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        try {
            $result = $this->reporter->report(!$input->getOption('no-send'));
        } catch (\Throwable $e) {
            $output->writeln('<error>Permission report failed: ' . $e->getMessage() . '</error>');
            return 1;
        }
        $snapshot = $result['snapshot'];
        if ($input->getOption('print')) {
            $output->writeln((string) json_encode($snapshot, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
        }
        $output->writeln(sprintf(
            '%d integrations (%d with all resources), %d admin users (%d with all resources); %s.',
            count($snapshot['integrations']),
            count($snapshot['findings']['integrations_with_all_resources']),
            count($snapshot['admin_users']),
            count($snapshot['findings']['admins_with_all_resources']),
            $input->getOption('no-send') ? 'not sent' : ($result['delivered'] ? 'sent' : 'queued for retry')
        ));
        return 0;
    }
}
