<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention\Handler;

use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Retention\BatchResult;
use LeakGuard\Connector\Model\Retention\PolicyClass;

/**
 * Class "abandoned_checkout_payment": clears card and free-form payment columns of `quote_payment` for quotes
 * that were converted or closed (`is_active = 0`) or last updated before the cut-off (abandoned carts).
 * A stored encrypted PAN or CVV (cc_number_enc, cc_cid_enc) raises an alert: CVV must never persist.
 */
class AbandonedCheckoutPaymentHandler extends AbstractHandler
{
    public const NULL_COLUMNS = [
        'cc_number_enc', 'cc_cid_enc', 'cc_owner', 'cc_exp_month', 'cc_ss_owner', 'cc_ss_issue',
        'additional_data', 'additional_information',
    ];
    /** smallint columns that default to 0 in Magento's schema: reset to 0 rather than NULL. */
    public const ZERO_COLUMNS = ['cc_exp_year', 'cc_ss_start_month', 'cc_ss_start_year'];

    public function className(): string
    {
        return 'abandoned_checkout_payment';
    }

    public function table(): string
    {
        return 'quote_payment';
    }

    public function primaryKey(): string
    {
        return 'payment_id';
    }

    protected function supported(): array
    {
        return ['last_cart_update' => ['null']];
    }

    public function processBatch(
        ConnectionInterface $db,
        PolicyClass $policyClass,
        int $fromId,
        int $toId,
        string $cutoff,
        bool $dryRun
    ): BatchResult {
        $payment = $db->table('quote_payment');
        $quote = $db->table('quote');
        $dirty = $this->anyNotNull('qp', self::NULL_COLUMNS);
        foreach (self::ZERO_COLUMNS as $column) {
            $dirty = substr($dirty, 0, -1) . ' OR qp.' . $column . ' <> 0)';
        }
        $rows = $db->fetchAll(
            'SELECT qp.payment_id, qp.cc_number_enc, qp.cc_cid_enc FROM ' . $payment . ' qp'
            . ' JOIN ' . $quote . ' q ON q.entity_id = qp.quote_id'
            . ' WHERE qp.payment_id BETWEEN ? AND ? AND (q.is_active = 0 OR q.updated_at < ?)'
            . ' AND ' . $dirty . ' ORDER BY qp.payment_id' . $this->lockClause($dryRun),
            [$fromId, $toId, $cutoff]
        );
        $ids = $this->ids($rows, 'payment_id');
        $alerts = [];
        $withPan = count(array_filter($rows, static fn (array $r): bool => (string) $r['cc_number_enc'] !== ''));
        $withCvv = count(array_filter($rows, static fn (array $r): bool => (string) $r['cc_cid_enc'] !== ''));
        if ($withPan > 0) {
            $alerts['cc_number_enc_present'] = $withPan;
        }
        if ($withCvv > 0) {
            $alerts['cc_cid_enc_present'] = $withCvv;
        }
        if ($ids !== [] && !$dryRun) {
            $zero = implode(', ', array_map(static fn (string $c): string => $c . ' = 0', self::ZERO_COLUMNS));
            $db->execute(
                'UPDATE ' . $payment . ' SET ' . $this->nullAssignments(self::NULL_COLUMNS) . ', ' . $zero
                . ' WHERE payment_id IN (' . $this->placeholders($ids) . ')',
                $ids
            );
        }
        return new BatchResult($ids, $alerts);
    }
}
