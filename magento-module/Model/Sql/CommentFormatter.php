<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Sql;

/**
 * sqlcommenter-style comment: key='url-encoded value' pairs joined by commas inside one C comment,
 * in the fixed order lg_admin, lg_integration, lg_route, lg_req; empty values are left out.
 * rawurlencode() leaves only [A-Za-z0-9_.~-], so a value can never close the comment or break the quotes.
 */
class CommentFormatter
{
    public const KEYS = ['lg_admin', 'lg_integration', 'lg_route', 'lg_req'];

    /**
     * @param array<string, string|null> $values
     */
    public function format(array $values): ?string
    {
        $pairs = [];
        foreach (self::KEYS as $key) {
            $value = $values[$key] ?? null;
            if ($value === null || $value === '') {
                continue;
            }
            $pairs[] = $key . "='" . rawurlencode(substr($value, 0, 128)) . "'";
        }
        return $pairs === [] ? null : '/*' . implode(',', $pairs) . '*/';
    }

    /**
     * Parses a comment back (used by tests; the host agent implements the same grammar).
     *
     * @return array<string, string>
     */
    public function parse(string $sql): array
    {
        if (preg_match('#^/\*((?:lg_[a-z]+=\'[^\']*\',?)+)\*/#', $sql, $match) !== 1) {
            return [];
        }
        $out = [];
        foreach (explode(',', $match[1]) as $pair) {
            [$key, $quoted] = explode('=', $pair, 2);
            $out[$key] = rawurldecode(trim($quoted, "'"));
        }
        return $out;
    }
}
