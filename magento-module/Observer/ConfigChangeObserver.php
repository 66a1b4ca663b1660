<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Observer;

use LeakGuard\Connector\Model\ActionLog\Recorder;
use LeakGuard\Connector\Model\Config;
use LeakGuard\Connector\Model\Redactor;
use LeakGuard\Connector\Model\Transport\Enrollment;
use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\Event\Observer;
use Magento\Framework\Event\ObserverInterface;
use Magento\Framework\Message\ManagerInterface;

/**
 * admin_system_config_changed_section_<section> for security-relevant sections (see etc/adminhtml/events.xml):
 * data `website`, `store`, `changed_paths`. Records each changed path with its new value, masked when the path
 * names a secret. A newly saved LeakGuard enrollment token is exchanged for the shop's key right away.
 */
class ConfigChangeObserver implements ObserverInterface
{
    /** Paths whose change is flagged as raising risk (details.sensitive = true). */
    private const SENSITIVE_PATHS = [
        'oauth/consumer/enable_integration_as_bearer',
        'admin/security/use_form_key',
        'admin/security/password_lifetime',
        'admin/security/lockout_failures',
        'admin/captcha/enable',
        'twofactorauth/general/force_providers',
        'web/secure/use_in_adminhtml',
        'dev/template/allow_symlink',
        'webapi/webapisecurity/allow_insecure',
        'leakguard/capture/admin_actions',
        'leakguard/capture/jsonl',
        'leakguard/capture/webapi',
    ];

    private Recorder $recorder;
    private ScopeConfigInterface $scopeConfig;
    private Redactor $redactor;
    private Enrollment $enrollment;
    private Config $config;
    private ManagerInterface $messageManager;

    public function __construct(
        Recorder $recorder,
        ScopeConfigInterface $scopeConfig,
        Redactor $redactor,
        Enrollment $enrollment,
        Config $config,
        ManagerInterface $messageManager
    ) {
        $this->recorder = $recorder;
        $this->scopeConfig = $scopeConfig;
        $this->redactor = $redactor;
        $this->enrollment = $enrollment;
        $this->config = $config;
        $this->messageManager = $messageManager;
    }

    public function execute(Observer $observer)
    {
        $event = $observer->getEvent();
        $paths = $event->getData('changed_paths');
        if (!is_array($paths) || $paths === []) {
            return;
        }
        $website = $event->getData('website');
        $store = $event->getData('store');
        [$scope, $scopeCode] = $store ? ['stores', $store] : ($website ? ['websites', $website] : ['default', null]);
        $changes = [];
        foreach (array_slice(array_values(array_filter($paths, 'is_string')), 0, 40) as $path) {
            $changes[$path] = $this->redactor->configValue($path, $this->scopeConfig->getValue($path, $scope, $scopeCode));
        }
        $this->recorder->record('config_change', [
            'entity_type' => 'config',
            'details' => [
                'scope' => $scope,
                'scope_code' => $scopeCode,
                'changed_paths' => array_keys($changes),
                'values' => $changes,
                'sensitive' => array_intersect(array_keys($changes), self::SENSITIVE_PATHS) !== [],
            ],
        ]);

        if (in_array(Config::XML_ENROLLMENT_TOKEN, $paths, true) && $this->config->getEnrollmentToken() !== '') {
            try {
                $this->enrollment->enroll();
                $this->messageManager->addSuccessMessage(__('This shop is now enrolled with LeakGuard.'));
            } catch (\Throwable $e) {
                $this->messageManager->addErrorMessage(__('LeakGuard enrollment failed: %1', $e->getMessage()));
            }
        }
    }
}
