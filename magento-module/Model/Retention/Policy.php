<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention;

/**
 * The tenant's retention policy as served by GET /api/v1/magento/retention-policy.
 *
 * Shape: {"version": int, "classes": [{"class", "max_age_days", "anchor", "action", "allow_keys"?}]}.
 */
class Policy
{
    /**
     * @param list<PolicyClass> $classes
     */
    public function __construct(
        public readonly int $version,
        public readonly array $classes,
        public readonly string $sha256
    ) {
    }

    /**
     * @throws \InvalidArgumentException naming the offending field when the document is not a valid policy
     */
    public static function fromJson(string $json): self
    {
        try {
            $document = json_decode($json, true, 32, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new \InvalidArgumentException('retention policy is not valid JSON', 0, $e);
        }
        if (!is_array($document) || !is_int($document['version'] ?? null) || $document['version'] < 0) {
            throw new \InvalidArgumentException('retention policy field "version" must be a non-negative integer');
        }
        if (!is_array($document['classes'] ?? null) || !array_is_list($document['classes'])) {
            throw new \InvalidArgumentException('retention policy field "classes" must be an array');
        }
        $classes = [];
        foreach ($document['classes'] as $index => $entry) {
            $where = 'retention policy classes[' . $index . ']';
            if (!is_array($entry) || !is_string($entry['class'] ?? null) || $entry['class'] === '') {
                throw new \InvalidArgumentException($where . '.class must be a non-empty string');
            }
            $maxAge = $entry['max_age_days'] ?? 0;
            if (!is_int($maxAge) || $maxAge < 0) {
                throw new \InvalidArgumentException($where . '.max_age_days must be a non-negative integer');
            }
            $allowKeys = $entry['allow_keys'] ?? [];
            if (!is_array($allowKeys) || array_filter($allowKeys, 'is_string') !== $allowKeys) {
                throw new \InvalidArgumentException($where . '.allow_keys must be an array of strings');
            }
            $classes[] = new PolicyClass(
                $entry['class'],
                $maxAge,
                is_string($entry['anchor'] ?? null) ? $entry['anchor'] : '',
                is_string($entry['action'] ?? null) ? $entry['action'] : '',
                array_values($allowKeys)
            );
        }
        return new self($document['version'], $classes, hash('sha256', $json));
    }
}
