<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention\Handler;

use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Retention\PolicyClass;

/**
 * Shared SQL helpers for the retention handlers.
 */
abstract class AbstractHandler implements HandlerInterface
{
    /** Order states after which an order no longer changes in normal operation. */
    protected const FINAL_ORDER_STATES = ['complete', 'closed', 'canceled'];

    /**
     * @return array<string, list<string>> anchor => allowed actions
     */
    abstract protected function supported(): array;

    public function validate(PolicyClass $policyClass): ?string
    {
        $supported = $this->supported();
        $anchor = $policyClass->anchor === '' ? (string) array_key_first($supported) : $policyClass->anchor;
        if (!isset($supported[$anchor])) {
            return 'unsupported anchor "' . $policyClass->anchor . '" for class ' . $this->className();
        }
        if (!in_array($policyClass->action, $supported[$anchor], true)) {
            return 'unsupported action "' . $policyClass->action . '" for class ' . $this->className();
        }
        return null;
    }

    protected function anchor(PolicyClass $policyClass): string
    {
        return $policyClass->anchor === '' ? (string) array_key_first($this->supported()) : $policyClass->anchor;
    }

    /**
     * SQL condition (with `?` for the cutoff) that an order aliased $alias is old enough under the anchor.
     */
    protected function orderAnchorCondition(string $alias, string $anchor): string
    {
        if ($anchor === 'order_created') {
            return $alias . '.created_at < ?';
        }
        $states = "'" . implode("','", self::FINAL_ORDER_STATES) . "'";
        return $alias . '.state IN (' . $states . ') AND ' . $alias . '.updated_at < ?';
    }

    protected function lockClause(bool $dryRun): string
    {
        return $dryRun ? '' : ' FOR UPDATE';
    }

    /**
     * @param list<int> $ids
     */
    protected function placeholders(array $ids): string
    {
        return implode(',', array_fill(0, count($ids), '?'));
    }

    /**
     * @param list<array<string, mixed>> $rows
     * @return list<int>
     */
    protected function ids(array $rows, string $key): array
    {
        $ids = array_map(static fn (array $row): int => (int) $row[$key], $rows);
        sort($ids);
        return $ids;
    }

    protected function nullAssignments(array $columns): string
    {
        return implode(', ', array_map(static fn (string $c): string => $c . ' = NULL', $columns));
    }

    protected function anyNotNull(string $alias, array $columns): string
    {
        return '(' . implode(' OR ', array_map(static fn (string $c): string => $alias . '.' . $c . ' IS NOT NULL', $columns)) . ')';
    }

    /**
     * Writes new values of one column for many rows in one statement per 500 rows (CASE on the key), so a
     * batch that rewrites serialized payloads costs a few round trips, not one per row.
     *
     * @param array<int, string> $values primary key => new value
     */
    protected function updateColumn(ConnectionInterface $db, string $table, string $pk, string $column, array $values): void
    {
        foreach (array_chunk($values, 500, true) as $chunk) {
            $cases = '';
            $bind = [];
            foreach ($chunk as $id => $value) {
                $cases .= ' WHEN ? THEN ?';
                $bind[] = $id;
                $bind[] = $value;
            }
            $ids = array_keys($chunk);
            $db->execute(
                'UPDATE ' . $table . ' SET ' . $column . ' = CASE ' . $pk . $cases . ' END'
                . ' WHERE ' . $pk . ' IN (' . $this->placeholders($ids) . ')',
                array_merge($bind, $ids)
            );
        }
    }

    protected function tableName(ConnectionInterface $db, string $name): string
    {
        return $db->table($name);
    }
}
