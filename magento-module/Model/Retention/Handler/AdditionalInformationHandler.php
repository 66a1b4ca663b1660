<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\Retention\Handler;

use LeakGuard\Connector\Model\Db\ConnectionInterface;
use LeakGuard\Connector\Model\Retention\BatchResult;
use LeakGuard\Connector\Model\Retention\PayloadCodec;
use LeakGuard\Connector\Model\Retention\PolicyClass;

/**
 * Class "additional_information": removes every top-level key of `sales_order_payment.additional_information`
 * that is not on the policy's allow-list (gateways store raw card, IBAN and holder data there).
 * Values that are neither JSON nor a PHP-serialized array are left alone and counted as undecodable.
 */
class AdditionalInformationHandler extends AbstractHandler
{
    private PayloadCodec $codec;

    public function __construct(PayloadCodec $codec)
    {
        $this->codec = $codec;
    }

    public function className(): string
    {
        return 'additional_information';
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
        return ['order_completion' => ['redact_keys'], 'order_created' => ['redact_keys']];
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
        $rows = $db->fetchAll(
            'SELECT p.entity_id, p.additional_information FROM ' . $payment . ' p'
            . ' JOIN ' . $db->table('sales_order') . ' o ON o.entity_id = p.parent_id'
            . ' WHERE p.entity_id BETWEEN ? AND ? AND ' . $this->orderAnchorCondition('o', $this->anchor($policyClass))
            . " AND p.additional_information IS NOT NULL AND p.additional_information <> ''"
            . ' ORDER BY p.entity_id' . $this->lockClause($dryRun),
            [$fromId, $toId, $cutoff]
        );
        $allowed = array_flip($policyClass->allowKeys);
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
            $kept = array_intersect_key($info, $allowed);
            if (count($kept) === count($info)) {
                continue;
            }
            $ids[] = (int) $row['entity_id'];
            $updates[(int) $row['entity_id']] = $this->codec->encode($kept, $format);
        }
        if (!$dryRun && $updates !== []) {
            $this->updateColumn($db, $payment, 'entity_id', 'additional_information', $updates);
        }
        return new BatchResult($ids, [], $undecodable);
    }
}
