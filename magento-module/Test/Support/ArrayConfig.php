<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Support;

use Magento\Framework\App\Config\ReinitableConfigInterface;
use Magento\Framework\App\Config\Storage\WriterInterface;

/**
 * In-memory configuration: reads like ScopeConfig, writes like the config writer.
 */
class ArrayConfig implements ReinitableConfigInterface, WriterInterface
{
    public int $reinits = 0;

    public function __construct(public array $values = [])
    {
    }

    public function getValue($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        return $this->values[$path] ?? null;
    }

    public function isSetFlag($path, $scopeType = self::SCOPE_TYPE_DEFAULT, $scopeCode = null)
    {
        return (bool) ($this->values[$path] ?? false);
    }

    public function reinit()
    {
        $this->reinits++;
        return $this;
    }

    public function save($path, $value, $scope = self::SCOPE_TYPE_DEFAULT, $scopeId = 0)
    {
        $this->values[$path] = $value;
    }

    public function delete($path, $scope = self::SCOPE_TYPE_DEFAULT, $scopeId = 0)
    {
        unset($this->values[$path]);
    }
}
