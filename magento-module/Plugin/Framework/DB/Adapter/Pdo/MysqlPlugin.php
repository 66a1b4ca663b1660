<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Plugin\Framework\DB\Adapter\Pdo;

use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Sql\AttributionContext;
use Magento\Framework\DB\Adapter\Pdo\Mysql;
use Magento\Framework\DB\Select;

/**
 * SQL attribution (off by default): prefixes each statement run in the adminhtml and webapi_rest areas with
 * the request's attribution comment, so the database's general/slow/audit logs name the admin or integration.
 * Declared only in etc/adminhtml/di.xml and etc/webapi_rest/di.xml.
 *
 * Cost: one flag read per request (cached) and a string concatenation per statement; the comment adds
 * 40-120 bytes to each statement in the database logs.
 */
class MysqlPlugin
{
    private Config $config;
    private AttributionContext $context;
    private ?bool $enabled = null;

    public function __construct(Config $config, AttributionContext $context)
    {
        $this->config = $config;
        $this->context = $context;
    }

    /**
     * @return array{0: string|Select, 1: mixed}|null
     */
    public function beforeQuery(Mysql $subject, $sql, $bind = [])
    {
        $comment = $this->context->comment();
        if ($comment === null) {
            return null;
        }
        if ($this->enabled === null) {
            // Reading the flag may itself query the database: mark first so that query passes through unchanged.
            $this->enabled = false;
            $this->enabled = $this->config->isSqlAttributionEnabled();
        }
        if (!$this->enabled) {
            return null;
        }
        if ($sql instanceof Select) {
            if (empty($bind)) {
                $bind = $sql->getBind();
            }
            $sql = $sql->assemble();
        }
        if (!is_string($sql) || str_starts_with($sql, '/*lg_')) {
            return null;
        }
        return [$comment . $sql, $bind];
    }
}
