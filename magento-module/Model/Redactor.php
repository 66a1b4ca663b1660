<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model;

/**
 * The one place that decides what may leave a request in a log entry.
 *
 * Keys that name a credential (password, token, secret, key, signature, authorization, cvv, card number...) are
 * replaced by "[redacted]" at any depth; long strings are truncated; objects are reduced to their class name.
 * Every log writer in the module passes its details through here, so Magento's plaintext-password events
 * (admin_user_authenticate_after, user save with password fields) cannot reach a table, a file or the server.
 */
class Redactor
{
    public const MASK = '[redacted]';
    private const MAX_STRING = 256;
    private const MAX_DEPTH = 4;
    private const MAX_ITEMS = 50;
    /** Substrings (lowercased, separators removed) that make a key secret. */
    private const SECRET_MARKERS = [
        'password', 'passwd', 'pwd', 'passphrase', 'secret', 'token', 'apikey', 'privatekey', 'accesskey', 'signature',
        'authorization', 'cookie', 'sessionid', 'credential', 'otp', 'cvv', 'cvc', 'ccid', 'cidenc', 'ccnumber',
        'cardnumber', 'pan', 'iban', 'encryptionkey', 'cryptkey', 'formkey', 'hash', 'salt', 'nonce',
    ];
    /** Keys that are secret only as a whole word (the admin URL secret key, PINs). */
    private const EXACT_SECRET_KEYS = ['key', 'pin', 'pass', 'cc', 'ccv', 'cid'];
    /** Keys that contain a marker but are known to be harmless identifiers. */
    private const ALLOWED_KEYS = ['namespace', 'company', 'expanded', 'span', 'pane', 'panel', 'path', 'paths', 'changed_paths'];

    public function isSecretKey(string|int $key): bool
    {
        if (is_int($key)) {
            return false;
        }
        $normalized = strtolower((string) preg_replace('/[^a-zA-Z0-9]/', '', $key));
        if (in_array(strtolower($key), self::EXACT_SECRET_KEYS, true)) {
            return true;
        }
        if (in_array(strtolower($key), self::ALLOWED_KEYS, true)) {
            return false;
        }
        foreach (self::SECRET_MARKERS as $marker) {
            if (str_contains($normalized, $marker)) {
                return true;
            }
        }
        return false;
    }

    /**
     * @param array<mixed> $data
     * @return array<mixed>
     */
    public function redact(array $data, int $depth = 0): array
    {
        $out = [];
        $n = 0;
        foreach ($data as $key => $value) {
            if (++$n > self::MAX_ITEMS) {
                $out['_truncated'] = true;
                break;
            }
            if ($this->isSecretKey($key) && !is_bool($value) && $value !== null) {
                // A flag such as password_changed cannot leak the secret it describes.
                $out[$key] = self::MASK;
                continue;
            }
            $out[$key] = $this->value($value, $depth);
        }
        return $out;
    }

    /**
     * Redacts a configuration value by its path (e.g. payment/braintree/private_key => "[redacted]").
     */
    public function configValue(string $path, mixed $value): mixed
    {
        foreach (explode('/', $path) as $segment) {
            if ($this->isSecretKey($segment)) {
                return self::MASK;
            }
        }
        return $this->value($value, 0);
    }

    private function value(mixed $value, int $depth): mixed
    {
        if (is_array($value)) {
            return $depth + 1 >= self::MAX_DEPTH ? '[array]' : $this->redact($value, $depth + 1);
        }
        if (is_object($value)) {
            return '[object ' . get_class($value) . ']';
        }
        if (is_string($value)) {
            if (preg_match('/^\s*(bearer|basic)\s+\S+/i', $value) === 1 || preg_match('/\b\d{13,19}\b/', $value) === 1) {
                return self::MASK;
            }
            return mb_strlen($value) > self::MAX_STRING ? mb_substr($value, 0, self::MAX_STRING) . '…' : $value;
        }
        if (is_resource($value)) {
            return '[resource]';
        }
        return $value;
    }
}
