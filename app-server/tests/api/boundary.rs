//! What the server refuses before it authenticates anyone, and what a client cannot make it
//! remember: an encoded request body is refused with 415 before it is read (only the agent
//! batch route decodes its own body), the webhook HMAC covers the bytes as sent, and invented
//! methods on unknown routes add no metric series.

use futures::StreamExt;
use serde_json::{Value, json};

use crate::helpers::{Backend, spawn_app};
use crate::shopify_support::{SECRET, SHOP, shopify_app, signed_webhook};

async fn assert_unsupported_encoding(res: reqwest::Response) {
    assert_eq!(res.status(), 415);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], "unsupported_media_type", "{body}");
}

async fn an_encoded_webhook_is_refused_before_its_hmac_is_checked(backend: Backend) {
    let app = shopify_app(backend, None).await;
    app.create_tenant(SHOP).await;
    let body = json!({"id": 1, "email": "jon@example.com"}).to_string();
    let compressed = zstd::encode_all(body.as_bytes(), 3).unwrap();
    // Signed over the decoded JSON: a server that inflated the body first would accept it.
    let over_decoded = signed_webhook(SECRET, "customers/update", SHOP, "enc-1", &body);
    // Signed over the bytes as sent.
    let mut over_raw = signed_webhook(SECRET, "customers/update", SHOP, "enc-2", "");
    for (name, value) in over_raw.iter_mut() {
        if name == "X-Shopify-Hmac-Sha256" {
            *value = app_server::shopify::hmac::sign_webhook(SECRET.as_bytes(), &compressed);
        }
    }
    for (headers, encoding) in [
        (&over_decoded, "zstd"),
        (&over_raw, "zstd"),
        (&over_decoded, "gzip"),
    ] {
        let mut req = app
            .client
            .post(app.url("/shopify/webhooks"))
            .header("content-encoding", encoding);
        for (k, v) in headers.iter() {
            req = req.header(k.as_str(), v.as_str());
        }
        let res = req.body(compressed.clone()).send().await.unwrap();
        assert_unsupported_encoding(res).await;
    }
    assert_eq!(app.count_where("webhook_deliveries", "1 = 1").await, 0);
    // `identity` is no encoding: the same delivery sent plainly is taken, HMAC over its bytes.
    let mut req = app
        .client
        .post(app.url("/shopify/webhooks"))
        .header("content-encoding", "identity");
    for (k, v) in over_decoded.iter() {
        req = req.header(k.as_str(), v.as_str());
    }
    assert_eq!(req.body(body).send().await.unwrap().status(), 200);
    assert_eq!(app.count_where("webhook_deliveries", "1 = 1").await, 1);
}

async fn an_encoded_body_is_refused_before_authentication_except_agent_batches(backend: Backend) {
    let app = spawn_app(backend).await;
    let compressed =
        zstd::encode_all(&b"{\"external_id\":\"x\",\"role\":\"viewer\"}"[..], 3).unwrap();
    for path in [
        "/api/v1/users",
        "/api/v1/magento/events",
        "/console/login",
        "/no/such/route",
    ] {
        let res = app
            .client
            .post(app.url(path))
            .header("content-encoding", "gzip")
            .header("content-type", "application/json")
            .body(compressed.clone())
            .send()
            .await
            .unwrap();
        assert_unsupported_encoding(res).await;
    }
    // The batch route decodes zstd itself (with caps), so it reaches its credential check.
    let res = app
        .client
        .post(app.url("/api/v1/agent/batches"))
        .header("content-encoding", "zstd")
        .header("content-type", "application/json")
        .body(compressed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

fn http_series(metrics: &str) -> usize {
    metrics
        .lines()
        .filter(|l| l.starts_with("leakguard_http_requests_total{"))
        .count()
}

async fn scrape(app: &crate::helpers::TestApp) -> String {
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

async fn invented_methods(app: &crate::helpers::TestApp, range: std::ops::Range<usize>) {
    futures::stream::iter(range)
        .map(|i| {
            let method = reqwest::Method::from_bytes(format!("X-INVENTED-{i}").as_bytes()).unwrap();
            app.client
                .request(method, app.url(&format!("/nowhere/{i}")))
                .send()
        })
        .buffer_unordered(32)
        .for_each(|res| async move {
            assert_eq!(res.unwrap().status(), 404);
        })
        .await;
}

async fn invented_methods_on_unknown_routes_add_no_metric_series(backend: Backend) {
    let app = spawn_app(backend).await;
    // Two scrapes, so the scrape's own series exists before counting.
    scrape(&app).await;
    scrape(&app).await;
    invented_methods(&app, 0..1_000).await;
    let before = http_series(&scrape(&app).await);
    invented_methods(&app, 1_000..100_000).await;
    let metrics = scrape(&app).await;
    assert_eq!(http_series(&metrics), before, "no series added");
    assert!(
        metrics.len() < 100 * 1024,
        "/metrics is {} bytes",
        metrics.len()
    );
    assert!(
        metrics.contains(
            "leakguard_http_requests_total{method=\"other\",route=\"unmatched\",status=\"404\"} 100000"
        ),
        "{metrics}"
    );
    assert!(!metrics.contains("X-INVENTED"));
}

crate::on_both_backends!(
    an_encoded_webhook_is_refused_before_its_hmac_is_checked,
    an_encoded_body_is_refused_before_authentication_except_agent_batches,
);

pub mod invented_methods_on_unknown_routes_add_no_metric_series {
    // Labels do not depend on the store: SQLite only.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::invented_methods_on_unknown_routes_add_no_metric_series(
            crate::helpers::Backend::Sqlite,
        )
        .await;
    }
}
