<?php
/**
 * PHPUnit bootstrap: framework stubs, Symfony Console and PSR-3 from the system PHP include path,
 * and a PSR-4 autoloader for the module's own namespace.
 */
declare(strict_types=1);

require_once 'Symfony/Component/Console/autoload.php';
require_once 'Psr/Log/autoload.php';
require_once __DIR__ . '/Stubs/Framework.php';
require_once __DIR__ . '/Stubs/Modules.php';

spl_autoload_register(static function (string $class): void {
    $prefix = 'LeakGuard\\Connector\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = dirname(__DIR__) . '/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});
