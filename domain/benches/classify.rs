//! Throughput of the PII classifier on typical inputs: a Shopify order webhook, a Magento payment
//! row, a `key=value` log line, a support message, and a PII-free shipping log line.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use leakguard_domain::classify::{classify_record, classify_text, run_jsonl};
use std::hint::black_box;

const LOG_LINE: &str = "2026-03-01T12:00:03Z INFO checkout completed order_id=1001234567 user_email=jane.doe@example.com billing_telephone=415-555-2671 ip=203.0.113.7 total=129.99";
const MESSAGE: &str = "Hi, this is Jennifer Lopez. My card 4111 1111 1111 1111 was charged twice for order #10423; please call me at (415) 555-2671 or write to 8311 Jennifer Crossing Suite 511, Springfield, IL 62704.";
const DECOY: &str = "Order #10423 shipped via UPS 1Z999AA10123456784 on 2026-03-02 10:11:12; SKU TS-BLK-M-0042 x2 at $19.99; gift card 6035 1234 5678 9012 applied.";

fn bench(c: &mut Criterion) {
    let order = serde_json::json!({
        "id": 820982911946154508u64, "order_number": 1001, "email": "jon@example.com",
        "browser_ip": "203.0.113.7", "created_at": "2026-03-01T12:00:03-05:00",
        "billing_address": {"first_name": "Jon", "last_name": "Snow", "address1": "123 Amoebobacterieae St", "city": "Ottawa", "zip": "K2P0V6", "phone": "555-625-1199"},
        "line_items": [{"name": "IPod Nano - 8gb", "sku": "IPOD2008GREEN", "price": "199.00"}],
        "fulfillments": [{"tracking_number": "1Z2345", "tracking_company": "UPS"}]
    });
    let payment = serde_json::json!({
        "entity_id": "1202", "cc_owner": "Veronica Costello", "cc_number": "5555555555554444",
        "cc_cid": "737", "cc_last_4": "4444", "cc_exp_month": "12", "echeck_routing_number": "021000021",
        "echeck_bank_account": "000123456789"
    });
    let mut group = c.benchmark_group("classify");
    for (name, text) in [
        ("log_line", LOG_LINE),
        ("message", MESSAGE),
        ("decoy", DECOY),
    ] {
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(name, |b| b.iter(|| classify_text(black_box(text))));
    }
    group.throughput(Throughput::Elements(1));
    group.bench_function("shopify_order", |b| {
        b.iter(|| classify_record(black_box(&order)))
    });
    group.bench_function("magento_payment", |b| {
        b.iter(|| classify_record(black_box(&payment)))
    });

    let mut jsonl = Vec::new();
    for idx in 0..100 {
        jsonl.extend_from_slice(
            format!("{}\n", serde_json::json!({"id": idx, "text": LOG_LINE})).as_bytes(),
        );
        jsonl.extend_from_slice(
            format!("{}\n", serde_json::json!({"id": idx, "record": order})).as_bytes(),
        );
    }
    group.throughput(Throughput::Bytes(jsonl.len() as u64));
    group.bench_function("run_jsonl_200_lines", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(jsonl.len());
            run_jsonl(black_box(&jsonl[..]), &mut out, &mut |_| {})
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
