<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention\Handler;

use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Retention\BatchResult;
use LeakGuard\Connector\Model\Retention\PolicyClass;

/**
 * Class "vault_tokens": deletes stored-card tokens of `vault_payment_token` that expired more than max_age_days
 * ago, or that are inactive. Deleting a token only removes "pay with saved card"; order history is untouched
 * (the order-payment link rows cascade).
 */
class VaultTokensHandler extends AbstractHandler
{
    public function className(): string
    {
        return 'vault_tokens';
    }

    public function table(): string
    {
        return 'vault_payment_token';
    }

    public function primaryKey(): string
    {
        return 'entity_id';
    }

    protected function supported(): array
    {
        return ['token_expiry' => ['delete']];
    }

    public function processBatch(
        ConnectionInterface $db,
        PolicyClass $policyClass,
        int $fromId,
        int $toId,
        string $cutoff,
        bool $dryRun
    ): BatchResult {
        $token = $db->table('vault_payment_token');
        $rows = $db->fetchAll(
            'SELECT v.entity_id FROM ' . $token . ' v WHERE v.entity_id BETWEEN ? AND ?'
            . ' AND ((v.expires_at IS NOT NULL AND v.expires_at < ?) OR v.is_active = 0)'
            . ' ORDER BY v.entity_id' . $this->lockClause($dryRun),
            [$fromId, $toId, $cutoff]
        );
        $ids = $this->ids($rows, 'entity_id');
        if ($ids !== [] && !$dryRun) {
            $db->execute('DELETE FROM ' . $token . ' WHERE entity_id IN (' . $this->placeholders($ids) . ')', $ids);
        }
        return new BatchResult($ids);
    }
}
