<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\ActionLog;

use Magento\Framework\App\Filesystem\DirectoryList;

/**
 * Appends one JSON object per line to var/log/leakguard/<file>, which the LeakGuard agent tails.
 * Each line is written with one fwrite under an exclusive lock, so concurrent PHP workers never interleave.
 */
class JsonlWriter
{
    public const ADMIN_ACTIONS_FILE = 'admin_actions.jsonl';
    public const WEBAPI_FILE = 'webapi_calls.jsonl';

    private DirectoryList $directoryList;

    public function __construct(DirectoryList $directoryList)
    {
        $this->directoryList = $directoryList;
    }

    /**
     * @param array<string, mixed> $entry
     */
    public function append(string $file, array $entry): void
    {
        $directory = $this->directoryList->getPath(DirectoryList::LOG) . '/leakguard';
        if (!is_dir($directory) && !@mkdir($directory, 0770, true) && !is_dir($directory)) {
            throw new \RuntimeException('cannot create log directory var/log/leakguard');
        }
        $line = json_encode($entry, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE | JSON_THROW_ON_ERROR) . "\n";
        $handle = @fopen($directory . '/' . $file, 'ab');
        if ($handle === false) {
            throw new \RuntimeException('cannot open var/log/leakguard/' . $file);
        }
        try {
            flock($handle, LOCK_EX);
            fwrite($handle, $line);
            fflush($handle);
            flock($handle, LOCK_UN);
        } finally {
            fclose($handle);
        }
    }

    public function path(string $file): string
    {
        return $this->directoryList->getPath(DirectoryList::LOG) . '/leakguard/' . $file;
    }
}
