<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention;

/**
 * Reads and writes the serialized arrays Magento keeps in `additional_information` columns.
 *
 * Magento 2.2+ writes JSON; rows from older releases hold PHP serialize() output. PHP payloads are read with
 * allowed_classes=false (no object instantiation) and written back in the format they came in.
 */
class PayloadCodec
{
    public const FORMAT_JSON = 'json';
    public const FORMAT_PHP = 'php';

    /**
     * @return array{0: array<mixed>, 1: string}|null the decoded array and its format, or null when undecodable
     */
    public function decode(?string $payload): ?array
    {
        if ($payload === null || $payload === '') {
            return null;
        }
        $json = json_decode($payload, true);
        if (is_array($json)) {
            return [$json, self::FORMAT_JSON];
        }
        if (preg_match('/^a:\d+:\{/', $payload) === 1) {
            $php = @unserialize($payload, ['allowed_classes' => false]);
            if (is_array($php)) {
                return [$php, self::FORMAT_PHP];
            }
        }
        return null;
    }

    /**
     * @param array<mixed> $value
     */
    public function encode(array $value, string $format): string
    {
        if ($format === self::FORMAT_PHP) {
            return serialize($value);
        }
        return json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
    }
}
