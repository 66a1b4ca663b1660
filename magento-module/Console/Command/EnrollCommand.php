<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Console\Command;

use LeakGuard\Connector\Model\Transport\Enrollment;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * bin/magento leakguard:enroll [<token>]: exchanges an enrollment token (argument, or the one saved in
 * Stores > Configuration) for this shop's key. The server URL comes from configuration.
 */
class EnrollCommand extends Command
{
    public function __construct(private readonly Enrollment $enrollment)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setName('leakguard:enroll')
            ->setDescription('Enroll this shop with the LeakGuard server')
            ->addArgument('token', InputArgument::OPTIONAL, 'Enrollment token (default: the configured one)');
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        try {
            $result = $this->enrollment->enroll($input->getArgument('token'));
        } catch (\Throwable $e) {
            $output->writeln('<error>Enrollment failed: ' . $e->getMessage() . '</error>');
            return 1;
        }
        $output->writeln('Enrolled as tenant ' . $result['tenant_id'] . ' (key ' . $result['key_id'] . ').');
        return 0;
    }
}
