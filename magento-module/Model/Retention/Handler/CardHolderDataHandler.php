<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention\Handler;

use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Retention\BatchResult;
use LeakGuard\Connector\Model\Retention\PolicyClass;

/**
 * Class "card_holder_data": sets cardholder and bank columns of `sales_order_payment` to NULL once the order is old.
 *
 * Keeps what order history needs: method, cc_type, cc_last_4, amounts and the gateway references
 * (cc_trans_id, last_trans_id) used for refunds. A stored encrypted PAN (cc_number_enc) raises an alert.
 */
class CardHolderDataHandler extends AbstractHandler
{
    public const COLUMNS = [
        'cc_owner', 'cc_exp_month', 'cc_exp_year', 'cc_number_enc',
        'cc_ss_issue', 'cc_ss_start_month', 'cc_ss_start_year',
        'cc_debug_request_body', 'cc_debug_response_body', 'cc_debug_response_serialized',
        'echeck_bank_name', 'echeck_routing_number', 'echeck_account_name', 'echeck_account_type', 'echeck_type',
    ];

    public function className(): string
    {
        return 'card_holder_data';
    }

    public function table(): string
    {
        return 'sales_order_payment';
    }

    public function primaryKey(): string
    {
        return 'entity_id';
    }

    protected function supported(): array
    {
        return ['order_completion' => ['null'], 'order_created' => ['null']];
    }

    public function processBatch(
        ConnectionInterface $db,
        PolicyClass $policyClass,
        int $fromId,
        int $toId,
        string $cutoff,
        bool $dryRun
    ): BatchResult {
        $payment = $db->table('sales_order_payment');
        $order = $db->table('sales_order');
        $rows = $db->fetchAll(
            'SELECT p.entity_id, p.cc_number_enc FROM ' . $payment . ' p'
            . ' JOIN ' . $order . ' o ON o.entity_id = p.parent_id'
            . ' WHERE p.entity_id BETWEEN ? AND ? AND ' . $this->orderAnchorCondition('o', $this->anchor($policyClass))
            . ' AND ' . $this->anyNotNull('p', self::COLUMNS)
            . ' ORDER BY p.entity_id' . $this->lockClause($dryRun),
            [$fromId, $toId, $cutoff]
        );
        $ids = $this->ids($rows, 'entity_id');
        $withPan = count(array_filter($rows, static fn (array $r): bool => (string) $r['cc_number_enc'] !== ''));
        if ($ids !== [] && !$dryRun) {
            $db->execute(
                'UPDATE ' . $payment . ' SET ' . $this->nullAssignments(self::COLUMNS)
                . ' WHERE entity_id IN (' . $this->placeholders($ids) . ')',
                $ids
            );
        }
        return new BatchResult($ids, $withPan > 0 ? ['cc_number_enc_present' => $withPan] : []);
    }
}
