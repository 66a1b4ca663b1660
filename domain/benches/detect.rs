//! Throughput of the detection engine on a realistic signal mix: a storefront account, 40
//! admins with office hours, 10 integrations and a nightly backup over two simulated weeks,
//! pre-built as signals (normalization is measured by `scripts/bench-detect-replay`).

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use leakguard_domain::detect::{
    Category, CategorySet, Engine, Identity, RuleConfig, Signal, SignalKind,
};
use std::hint::black_box;

const T0: i64 = 1_793_577_600;

fn signals() -> Vec<Signal> {
    let mut out = Vec::new();
    let tables = vec!["customer_entity".to_owned(), "sales_order".to_owned()];
    let mut id = 0;
    let mut push =
        |at: i64, identity: &Identity, kind: SignalKind, categories: CategorySet, count| {
            id += 1;
            out.push(Signal {
                id,
                at,
                identity: identity.clone(),
                kind,
                categories,
                tables: tables.clone(),
                count,
                rows: None,
                ip: None,
                scopes_added: Vec::new(),
            });
        };
    let store = Identity {
        db_user: Some("magento".into()),
        db_host: Some("127.0.0.1".into()),
        ..Identity::default()
    };
    let admins: Vec<Identity> = (0..40)
        .map(|i| Identity {
            admin_user_id: Some(i.to_string()),
            ..store.clone()
        })
        .collect();
    let integrations: Vec<Identity> = (0..10)
        .map(|i| Identity {
            integration_id: Some(i.to_string()),
            ..store.clone()
        })
        .collect();
    let backup = Identity {
        db_user: Some("backup".into()),
        db_host: Some("localhost".into()),
        ..Identity::default()
    };
    let mut customers = CategorySet::of(Category::Customer);
    customers.insert(Category::Address);
    let orders = CategorySet::of(Category::Order);
    for minute in 0..14 * 24 * 60_i64 {
        let at = T0 + minute * 60;
        let hour = (minute / 60) % 24;
        push(at, &store, SignalKind::SqlAccess, CategorySet::EMPTY, 40);
        push(at, &store, SignalKind::SqlAccess, customers, 6);
        push(at, &store, SignalKind::SqlAccess, orders, 3);
        if (9..17).contains(&hour) {
            let admin = &admins[(minute % 40) as usize];
            push(at, admin, SignalKind::SqlAccess, customers, 5);
        }
        if minute % 15 == 0 {
            for integration in &integrations {
                push(at, integration, SignalKind::SqlAccess, orders, 4);
            }
        }
        if minute % (24 * 60) == 90 {
            push(at, &backup, SignalKind::Dump, customers, 1);
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let input = signals();
    let mut group = c.benchmark_group("detect");
    group.throughput(Throughput::Elements(input.len() as u64));
    group.sample_size(10);
    group.bench_function("engine_two_weeks", |b| {
        b.iter_batched(
            || Engine::new(RuleConfig::default()),
            |mut engine| {
                for signal in &input {
                    engine.ingest(black_box(signal));
                }
                engine.finish()
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
