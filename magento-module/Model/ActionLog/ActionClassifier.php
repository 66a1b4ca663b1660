<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Model\ActionLog;

use Magento\Framework\App\RequestInterface;

/**
 * Decides which admin controller actions are worth an entry, and what they touched.
 *
 * Works on the full action name (<route>_<controller path>_<action>) and request parameters only; it never
 * reads the database. Changes to admin users, roles, integrations and configuration are recorded by their
 * observers and service plugins instead (they see the saved ids and run outside controllers too).
 */
class ActionClassifier
{
    /** Grid namespace => entity type. */
    private const GRID_ENTITIES = [
        'customer_listing' => 'customer',
        'customer_address_listing' => 'customer_address',
        'customer_online_grid' => 'customer_online',
        'sales_order_grid' => 'order',
        'sales_order_invoice_grid' => 'invoice',
        'sales_order_shipment_grid' => 'shipment',
        'sales_order_creditmemo_grid' => 'creditmemo',
        'sales_order_view_invoice_grid' => 'invoice',
        'sales_order_view_shipment_grid' => 'shipment',
        'sales_order_view_creditmemo_grid' => 'creditmemo',
        'newsletter_subscriber_grid' => 'newsletter_subscriber',
    ];

    /** Grid pages of at least this many rows are logged (Magento's largest page preset is 200). */
    public const LARGE_PAGE = 200;

    /** Full action name => [entity type, id parameter]. One view = one record. */
    private const RECORD_VIEWS = [
        'customer_index_edit' => ['customer', 'id'],
        'sales_order_view' => ['order', 'order_id'],
        'sales_order_invoice_view' => ['invoice', 'invoice_id'],
        'sales_invoice_view' => ['invoice', 'invoice_id'],
        'sales_order_invoice_print' => ['invoice', 'invoice_id'],
        'sales_shipment_view' => ['shipment', 'shipment_id'],
        'sales_order_shipment_view' => ['shipment', 'shipment_id'],
        'sales_creditmemo_view' => ['creditmemo', 'creditmemo_id'],
        'sales_order_creditmemo_view' => ['creditmemo', 'creditmemo_id'],
        'sales_order_address' => ['order_address', 'address_id'],
        'customer_index_viewCart' => ['quote', 'customer_id'],
    ];

    /** Route (first segment of the full action name) => entity type for mass actions. */
    private const ROUTE_ENTITIES = [
        'customer' => 'customer',
        'sales' => 'order',
        'newsletter' => 'newsletter_subscriber',
        'catalog' => 'product',
        'cms' => 'cms_page',
        'review' => 'review',
    ];

    private const PDF_EXPORTS = [
        'sales_order_pdfinvoices' => 'invoice',
        'sales_order_pdfshipments' => 'shipment',
        'sales_order_pdfcreditmemos' => 'creditmemo',
        'sales_order_pdfdocs' => 'order',
        'sales_invoice_pdfinvoices' => 'invoice',
        'sales_shipment_pdfshipments' => 'shipment',
        'sales_creditmemo_pdfcreditmemos' => 'creditmemo',
    ];

    /**
     * @return array{event: string, entity_type: string|null, entity_ids?: list<int|string>, count?: int|null,
     *     details: array<string, mixed>}|null
     */
    public function classify(string $fullActionName, RequestInterface $request): ?array
    {
        if ($fullActionName === 'mui_export_gridToCsv' || $fullActionName === 'mui_export_gridToXml') {
            return $this->gridExport($fullActionName, $request);
        }
        if ($fullActionName === 'mui_index_render') {
            return $this->largeGridPage($request);
        }
        if ($fullActionName === 'adminhtml_export_export') {
            return [
                'event' => 'data_transfer_export',
                'entity_type' => $this->scalar($request->getParam('entity')),
                'details' => [
                    'file_format' => $this->scalar($request->getParam('file_format')),
                    'export_filter' => $this->arrayParam($request->getParam('export_filter')),
                    'skip_attr_count' => count($this->arrayParam($request->getParam('skip_attr'))),
                ],
            ];
        }
        if ($fullActionName === 'adminhtml_export_file_download') {
            return [
                'event' => 'export_download',
                'entity_type' => 'export_file',
                'details' => ['filename' => $this->scalar($request->getParam('filename'))],
            ];
        }
        if (isset(self::RECORD_VIEWS[$fullActionName])) {
            [$entityType, $param] = self::RECORD_VIEWS[$fullActionName];
            $id = $this->scalar($request->getParam($param));
            return [
                'event' => 'record_view',
                'entity_type' => $entityType,
                'entity_ids' => $id === null ? [] : [$id],
                'count' => 1,
                'details' => [],
            ];
        }
        if (isset(self::PDF_EXPORTS[$fullActionName])) {
            return $this->massAction($fullActionName, $request, self::PDF_EXPORTS[$fullActionName], ['format' => 'pdf']);
        }
        $parts = explode('_', $fullActionName);
        $action = (string) end($parts);
        $route = $parts[0];
        if (($route === 'reports' || $route === 'newsletter' || $route === 'customer' || $route === 'sales')
            && preg_match('/^export\w*(Csv|Excel|Xml)$/i', $action) === 1
        ) {
            return [
                'event' => $route === 'reports' || $route === 'newsletter' ? 'report_export' : 'grid_export',
                'entity_type' => $route === 'reports' ? 'report:' . implode('_', array_slice($parts, 1, -1)) : (self::ROUTE_ENTITIES[$route] ?? $route),
                'details' => ['format' => strtolower((string) preg_replace('/^export\w*?(Csv|Excel|Xml)$/i', '$1', $action))],
            ];
        }
        if (str_starts_with($action, 'mass')) {
            return $this->massAction($fullActionName, $request, self::ROUTE_ENTITIES[$route] ?? $route, ['operation' => $action]);
        }
        return null;
    }

    /**
     * Grid data pages are too frequent to log one by one; a page of at least LARGE_PAGE rows of a grid that
     * shows personal data is logged, because paging through big pages is how grids get scraped.
     */
    private function largeGridPage(RequestInterface $request): ?array
    {
        $namespace = $this->scalar($request->getParam('namespace'));
        $paging = $request->getParam('paging');
        $pageSize = is_array($paging) && is_numeric($paging['pageSize'] ?? null) ? (int) $paging['pageSize'] : 0;
        if ($namespace === null || !isset(self::GRID_ENTITIES[$namespace]) || $pageSize < self::LARGE_PAGE) {
            return null;
        }
        return [
            'event' => 'grid_page',
            'entity_type' => self::GRID_ENTITIES[$namespace],
            'count' => null,
            'details' => [
                'namespace' => $namespace,
                'page_size' => $pageSize,
                'page' => is_numeric($paging['current'] ?? null) ? (int) $paging['current'] : 1,
                'filters' => $this->arrayParam($request->getParam('filters')),
                'search' => $this->scalar($request->getParam('search')),
            ],
        ];
    }

    private function gridExport(string $fullActionName, RequestInterface $request): array
    {
        $namespace = $this->scalar($request->getParam('namespace'));
        $selected = $this->arrayParam($request->getParam('selected'));
        return [
            'event' => 'grid_export',
            'entity_type' => $namespace === null ? null : (self::GRID_ENTITIES[$namespace] ?? $namespace),
            'entity_ids' => array_values($selected),
            'count' => $selected === [] ? null : count($selected),
            'details' => [
                'namespace' => $namespace,
                'format' => $fullActionName === 'mui_export_gridToCsv' ? 'csv' : 'xml',
                'filters' => $this->arrayParam($request->getParam('filters')),
                'search' => $this->scalar($request->getParam('search')),
                'all_rows' => $selected === [],
                'excluded_count' => count($this->arrayParam($request->getParam('excluded'))),
            ],
        ];
    }

    private function massAction(string $fullActionName, RequestInterface $request, string $entityType, array $details): array
    {
        $selected = $this->arrayParam($request->getParam('selected'));
        $namespace = $this->scalar($request->getParam('namespace'));
        return [
            'event' => 'mass_action',
            'entity_type' => $entityType,
            'entity_ids' => array_values($selected),
            'count' => $selected === [] ? null : count($selected),
            'details' => $details + [
                'namespace' => $namespace,
                'all_rows' => $selected === [] && $request->getParam('excluded') !== null,
                'filters' => $this->arrayParam($request->getParam('filters')),
            ],
        ];
    }

    private function scalar(mixed $value): ?string
    {
        return is_scalar($value) && (string) $value !== '' ? substr((string) $value, 0, 255) : null;
    }

    /** @return array<mixed> */
    private function arrayParam(mixed $value): array
    {
        if (is_array($value)) {
            return $value;
        }
        if (is_string($value) && $value !== '' && $value !== 'false') {
            return array_values(array_filter(explode(',', $value), static fn (string $v): bool => $v !== ''));
        }
        return [];
    }
}
