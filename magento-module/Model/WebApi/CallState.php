<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\WebApi;

/**
 * Carries the number of records the service returned, from the output processor plugin to the REST plugin.
 */
class CallState
{
    private ?int $resultCount = null;

    public function setResultCount(?int $count): void
    {
        $this->resultCount = $count;
    }

    public function takeResultCount(): ?int
    {
        $count = $this->resultCount;
        $this->resultCount = null;
        return $count;
    }

    /**
     * Counts records in a service result after output processing: search results carry `items`,
     * lists are counted, a single object is one record, scalars and null are none.
     */
    public static function count(mixed $result): ?int
    {
        if (is_array($result)) {
            if (isset($result['items']) && is_array($result['items'])) {
                return count($result['items']);
            }
            return array_is_list($result) ? count($result) : 1;
        }
        return is_object($result) ? 1 : null;
    }
}
