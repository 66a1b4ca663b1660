<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Support;

use Magento\Framework\Encryption\EncryptorInterface;

/** Reversible stand-in for Magento's encryptor ("0:3:" + base64), enough to tell stored from plain values. */
class FakeEncryptor implements EncryptorInterface
{
    public function getHash($password, $salt = false)
    {
        return hash('sha256', (string) $password);
    }

    public function hash($data)
    {
        return hash('sha256', (string) $data);
    }

    public function validateHash($password, $hash)
    {
        return hash_equals((string) $hash, $this->hash($password));
    }

    public function isValidHash($password, $hash)
    {
        return $this->validateHash($password, $hash);
    }

    public function validateHashVersion($hash, $validateCount = false)
    {
        return true;
    }

    public function encrypt($data)
    {
        return '0:3:' . base64_encode((string) $data);
    }

    public function decrypt($data)
    {
        return str_starts_with((string) $data, '0:3:') ? (string) base64_decode(substr((string) $data, 4)) : '';
    }

    public function validateKey($key)
    {
        return true;
    }
}
