<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention\Handler;

use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Retention\BatchResult;
use LeakGuard\Connector\Model\Retention\PayloadCodec;
use LeakGuard\Connector\Model\Retention\PolicyClass;

/**
 * Class "gateway_raw_response": removes the `raw_details_info` key (the raw gateway response) from
 * `sales_payment_transaction.additional_information`. The transaction rows stay: they drive refunds and the
 * admin Transactions grid.
 */
class GatewayRawResponseHandler extends AbstractHandler
{
    public const RAW_KEY = 'raw_details_info';

    private PayloadCodec $codec;

    public function __construct(PayloadCodec $codec)
    {
        $this->codec = $codec;
    }

    public function className(): string
    {
        return 'gateway_raw_response';
    }

    public function table(): string
    {
        return 'sales_payment_transaction';
    }

    public function primaryKey(): string
    {
        return 'transaction_id';
    }

    protected function supported(): array
    {
        $actions = ['strip_raw_details', 'null', 'redact_keys'];
        return ['order_completion' => $actions, 'transaction_created' => $actions, 'order_created' => $actions];
    }

    public function processBatch(
        ConnectionInterface $db,
        PolicyClass $policyClass,
        int $fromId,
        int $toId,
        string $cutoff,
        bool $dryRun
    ): BatchResult {
        $transaction = $db->table('sales_payment_transaction');
        $anchor = $this->anchor($policyClass);
        $sql = 'SELECT t.transaction_id, t.additional_information FROM ' . $transaction . ' t';
        if ($anchor === 'transaction_created') {
            $condition = 't.created_at < ?';
        } else {
            $sql .= ' JOIN ' . $db->table('sales_order') . ' o ON o.entity_id = t.order_id';
            $condition = $this->orderAnchorCondition('o', $anchor);
        }
        $rows = $db->fetchAll(
            $sql . ' WHERE t.transaction_id BETWEEN ? AND ? AND ' . $condition
            . " AND t.additional_information LIKE '%" . self::RAW_KEY . "%'"
            . ' ORDER BY t.transaction_id' . $this->lockClause($dryRun),
            [$fromId, $toId, $cutoff]
        );
        $ids = [];
        $updates = [];
        $undecodable = 0;
        foreach ($rows as $row) {
            $decoded = $this->codec->decode($row['additional_information']);
            if ($decoded === null) {
                $undecodable++;
                continue;
            }
            [$info, $format] = $decoded;
            if (!array_key_exists(self::RAW_KEY, $info)) {
                continue;
            }
            unset($info[self::RAW_KEY]);
            $ids[] = (int) $row['transaction_id'];
            $updates[(int) $row['transaction_id']] = $this->codec->encode($info, $format);
        }
        if (!$dryRun && $updates !== []) {
            $this->updateColumn($db, $transaction, 'transaction_id', 'additional_information', $updates);
        }
        return new BatchResult($ids, [], $undecodable);
    }
}
