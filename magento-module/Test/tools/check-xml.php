<?php
/**
 * Checks every etc/**.xml of the module: well-formed, and the root element and
 * xsi:noNamespaceSchemaLocation URN expected for that file name. Exits non-zero on the first bad file set.
 *
 * Usage: php Test/tools/check-xml.php <module dir>
 */
declare(strict_types=1);

$moduleDir = rtrim($argv[1] ?? dirname(__DIR__, 2), '/');
$expected = [
    'module.xml' => ['config', 'urn:magento:framework:Module/etc/module.xsd'],
    'di.xml' => ['config', 'urn:magento:framework:ObjectManager/etc/config.xsd'],
    'events.xml' => ['config', 'urn:magento:framework:Event/etc/events.xsd'],
    'crontab.xml' => ['config', 'urn:magento:module:Magento_Cron:etc/crontab.xsd'],
    'cron_groups.xml' => ['config', 'urn:magento:module:Magento_Cron:etc/cron_groups.xsd'],
    'system.xml' => ['config', 'urn:magento:module:Magento_Config:etc/system_file.xsd'],
    'config.xml' => ['config', 'urn:magento:module:Magento_Store:etc/config.xsd'],
    'acl.xml' => ['config', 'urn:magento:framework:Acl/etc/acl.xsd'],
    'menu.xml' => ['config', 'urn:magento:module:Magento_Backend:etc/menu.xsd'],
    'routes.xml' => ['config', 'urn:magento:framework:App/etc/routes.xsd'],
    'webapi.xml' => ['routes', 'urn:magento:module:Magento_Webapi:etc/webapi.xsd'],
    'db_schema.xml' => ['schema', 'urn:magento:framework:Setup/Declaration/Schema/etc/schema.xsd'],
];
$xsi = 'http://www.w3.org/2001/XMLSchema-instance';
$files = [];
$iterator = new RecursiveIteratorIterator(new RecursiveDirectoryIterator($moduleDir . '/etc', FilesystemIterator::SKIP_DOTS));
foreach ($iterator as $file) {
    if ($file->getExtension() === 'xml') {
        $files[] = $file->getPathname();
    }
}
sort($files);
$errors = [];
libxml_use_internal_errors(true);
foreach ($files as $path) {
    $relative = substr($path, strlen($moduleDir) + 1);
    $dom = new DOMDocument();
    if (!$dom->load($path)) {
        foreach (libxml_get_errors() as $error) {
            $errors[] = $relative . ':' . $error->line . ': ' . trim($error->message);
        }
        libxml_clear_errors();
        continue;
    }
    $name = basename($path);
    if (!isset($expected[$name])) {
        $errors[] = $relative . ': no known Magento schema for this file name';
        continue;
    }
    [$root, $urn] = $expected[$name];
    $element = $dom->documentElement;
    if ($element->tagName !== $root) {
        $errors[] = $relative . ': root element is <' . $element->tagName . '>, expected <' . $root . '>';
    }
    $actualUrn = $element->getAttributeNS($xsi, 'noNamespaceSchemaLocation');
    if ($actualUrn !== $urn) {
        $errors[] = $relative . ': xsi:noNamespaceSchemaLocation is "' . $actualUrn . '", expected "' . $urn . '"';
    }
}
if ($files === []) {
    $errors[] = 'no XML files under ' . $moduleDir . '/etc';
}
foreach ($errors as $error) {
    fwrite(STDERR, $error . "\n");
}
printf("%d XML files checked, %d problems\n", count($files), count($errors));
exit($errors === [] ? 0 : 1);
