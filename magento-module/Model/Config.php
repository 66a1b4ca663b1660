<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model;

use Magento\Framework\App\Config\ReinitableConfigInterface;
use Magento\Framework\App\Config\ScopeConfigInterface;
use Magento\Framework\App\Config\Storage\WriterInterface;
use Magento\Framework\Encryption\EncryptorInterface;

/**
 * The module's settings (Stores > Configuration > LeakGuard), read with intention-named getters.
 *
 * Secrets (enrollment token, shared secret) are stored encrypted in core_config_data and only decrypted here;
 * nothing in this class logs them.
 */
class Config
{
    public const MODULE_VERSION = '1.0.0';

    public const XML_SERVER_URL = 'leakguard/connection/server_url';
    public const XML_ENROLLMENT_TOKEN = 'leakguard/connection/enrollment_token';
    public const XML_KEY_ID = 'leakguard/connection/key_id';
    public const XML_SHARED_SECRET = 'leakguard/connection/shared_secret';
    public const XML_TENANT_ID = 'leakguard/connection/tenant_id';
    public const XML_CAPTURE_ADMIN_ACTIONS = 'leakguard/capture/admin_actions';
    public const XML_CAPTURE_JSONL = 'leakguard/capture/jsonl';
    public const XML_CAPTURE_WEBAPI = 'leakguard/capture/webapi';
    public const XML_CAPTURE_SQL_ATTRIBUTION = 'leakguard/capture/sql_attribution';
    public const XML_PERMISSIONS_ENABLED = 'leakguard/permissions/enabled';
    public const XML_RETENTION_ENABLED = 'leakguard/retention/enabled';
    public const XML_RETENTION_BATCH_SIZE = 'leakguard/retention/batch_size';
    public const XML_BASE_URL = 'web/secure/base_url';
    public const XML_INTEGRATION_AS_BEARER = 'oauth/consumer/enable_integration_as_bearer';

    private ScopeConfigInterface $scopeConfig;
    private EncryptorInterface $encryptor;
    private WriterInterface $configWriter;
    private ReinitableConfigInterface $reinitableConfig;

    public function __construct(
        ScopeConfigInterface $scopeConfig,
        EncryptorInterface $encryptor,
        WriterInterface $configWriter,
        ReinitableConfigInterface $reinitableConfig
    ) {
        $this->scopeConfig = $scopeConfig;
        $this->encryptor = $encryptor;
        $this->configWriter = $configWriter;
        $this->reinitableConfig = $reinitableConfig;
    }

    public function getServerUrl(): string
    {
        return rtrim(trim((string) $this->scopeConfig->getValue(self::XML_SERVER_URL)), '/');
    }

    public function getEnrollmentToken(): string
    {
        return $this->decrypted(self::XML_ENROLLMENT_TOKEN);
    }

    public function getKeyId(): string
    {
        return trim((string) $this->scopeConfig->getValue(self::XML_KEY_ID));
    }

    public function getSharedSecret(): string
    {
        return $this->decrypted(self::XML_SHARED_SECRET);
    }

    public function getTenantId(): string
    {
        return trim((string) $this->scopeConfig->getValue(self::XML_TENANT_ID));
    }

    public function isEnrolled(): bool
    {
        return $this->getServerUrl() !== '' && $this->getKeyId() !== '' && $this->getSharedSecret() !== '';
    }

    /** The store's secure base URL without the trailing slash (the enrollment base_url and the JWT issuer). */
    public function getBaseUrl(): string
    {
        return rtrim((string) $this->scopeConfig->getValue(self::XML_BASE_URL), '/');
    }

    public function isAdminActionLogEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_CAPTURE_ADMIN_ACTIONS);
    }

    public function isJsonlLogEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_CAPTURE_JSONL);
    }

    public function isWebApiLogEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_CAPTURE_WEBAPI);
    }

    public function isSqlAttributionEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_CAPTURE_SQL_ATTRIBUTION);
    }

    public function isPermissionReportEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_PERMISSIONS_ENABLED);
    }

    public function isRetentionEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_RETENTION_ENABLED);
    }

    public function getRetentionBatchSize(): int
    {
        $size = (int) $this->scopeConfig->getValue(self::XML_RETENTION_BATCH_SIZE);
        return $size > 0 ? $size : 1000;
    }

    public function isIntegrationBearerEnabled(): bool
    {
        return $this->scopeConfig->isSetFlag(self::XML_INTEGRATION_AS_BEARER);
    }

    /**
     * Stores what enrollment returned (secret encrypted), forgets the single-use token and reloads config.
     */
    public function saveEnrollment(string $tenantId, string $keyId, string $secret): void
    {
        $this->configWriter->save(self::XML_TENANT_ID, $tenantId);
        $this->configWriter->save(self::XML_KEY_ID, $keyId);
        $this->configWriter->save(self::XML_SHARED_SECRET, $this->encryptor->encrypt($secret));
        $this->configWriter->delete(self::XML_ENROLLMENT_TOKEN);
        $this->reinitableConfig->reinit();
    }

    private function decrypted(string $path): string
    {
        $stored = trim((string) $this->scopeConfig->getValue($path));
        return $stored === '' ? '' : trim((string) $this->encryptor->decrypt($stored));
    }
}
