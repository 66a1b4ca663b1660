<?php
declare(strict_types=1);

namespace LeakGuard\Connector\Test\Unit\Model;

use LeakGuard\Connector\Model\ActionLog\ActionClassifier;
use Magento\Framework\App\Request\Http;
use PHPUnit\Framework\TestCase;

class ActionClassifierTest extends TestCase
{
    private function classify(string $action, array $params = []): ?array
    {
        return (new ActionClassifier())->classify($action, new Http($action, $params));
    }

    public function test_a_customer_grid_csv_export_names_the_namespace_filters_and_selection(): void
    {
        $c = $this->classify('mui_export_gridToCsv', [
            'namespace' => 'customer_listing',
            'filters' => ['placeholder' => 'true', 'billing_region' => 'California'],
            'search' => '',
            'selected' => ['4', '9'],
        ]);
        self::assertSame('grid_export', $c['event']);
        self::assertSame('customer', $c['entity_type']);
        self::assertSame(['4', '9'], $c['entity_ids']);
        self::assertSame(2, $c['count']);
        self::assertSame('csv', $c['details']['format']);
        self::assertSame('California', $c['details']['filters']['billing_region']);
        self::assertFalse($c['details']['all_rows']);
    }

    public function test_an_order_grid_xml_export_of_everything_is_flagged_all_rows(): void
    {
        $c = $this->classify('mui_export_gridToXml', ['namespace' => 'sales_order_grid', 'selected' => 'false', 'excluded' => 'false']);
        self::assertSame('order', $c['entity_type']);
        self::assertSame('xml', $c['details']['format']);
        self::assertTrue($c['details']['all_rows']);
        self::assertNull($c['count']);
    }

    public function test_data_transfer_export_and_download(): void
    {
        $export = $this->classify('adminhtml_export_export', ['entity' => 'customer', 'file_format' => 'csv', 'export_filter' => ['email' => 'x'], 'skip_attr' => ['1', '2']]);
        self::assertSame('data_transfer_export', $export['event']);
        self::assertSame('customer', $export['entity_type']);
        self::assertSame(2, $export['details']['skip_attr_count']);
        $download = $this->classify('adminhtml_export_file_download', ['filename' => 'customer_20261128_082112.csv']);
        self::assertSame('export_download', $download['event']);
        self::assertSame('customer_20261128_082112.csv', $download['details']['filename']);
    }

    public function test_record_views_carry_the_viewed_id(): void
    {
        $customer = $this->classify('customer_index_edit', ['id' => '42']);
        self::assertSame(['event' => 'record_view', 'entity_type' => 'customer', 'entity_ids' => ['42'], 'count' => 1, 'details' => []], $customer);
        self::assertSame(['77'], $this->classify('sales_order_view', ['order_id' => '77'])['entity_ids']);
    }

    public function test_report_newsletter_and_legacy_exports(): void
    {
        $report = $this->classify('reports_report_shopcart_exportAbandonedCsv');
        self::assertSame('report_export', $report['event']);
        self::assertSame('report:report_shopcart', $report['entity_type']);
        self::assertSame('csv', $report['details']['format']);
        self::assertSame('report_export', $this->classify('newsletter_subscriber_exportCsv')['event']);
        self::assertSame('excel', $this->classify('reports_report_customer_exportAccountsExcel')['details']['format']);
        self::assertSame('grid_export', $this->classify('customer_index_exportCsv')['event']);
    }

    public function test_mass_actions_and_pdf_printouts(): void
    {
        $mass = $this->classify('customer_index_massDelete', ['selected' => ['1', '2', '3'], 'namespace' => 'customer_listing']);
        self::assertSame('mass_action', $mass['event']);
        self::assertSame('customer', $mass['entity_type']);
        self::assertSame(3, $mass['count']);
        self::assertSame('massDelete', $mass['details']['operation']);
        $pdf = $this->classify('sales_order_pdfinvoices', ['selected' => ['5']]);
        self::assertSame('mass_action', $pdf['event']);
        self::assertSame('invoice', $pdf['entity_type']);
        self::assertSame('pdf', $pdf['details']['format']);
    }

    public function test_ordinary_navigation_is_not_logged(): void
    {
        self::assertNull($this->classify('customer_index_index'));
        self::assertNull($this->classify('adminhtml_dashboard_index'));
        self::assertNull($this->classify('mui_index_render', ['namespace' => 'customer_listing', 'paging' => ['pageSize' => '50']]));
        self::assertNull($this->classify('mui_index_render', ['namespace' => 'cms_block_listing', 'paging' => ['pageSize' => '500']]));
        self::assertNull($this->classify('adminhtml_user_save'));
    }

    public function test_a_large_page_of_a_personal_data_grid_is_logged(): void
    {
        $c = $this->classify('mui_index_render', ['namespace' => 'sales_order_grid', 'paging' => ['pageSize' => '200', 'current' => '7'], 'isAjax' => 'true']);
        self::assertSame('grid_page', $c['event']);
        self::assertSame('order', $c['entity_type']);
        self::assertSame(200, $c['details']['page_size']);
        self::assertSame(7, $c['details']['page']);
    }
}
