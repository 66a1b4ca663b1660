//! Secrets at rest: a Shopify token given at tenant creation is sealed (the plaintext is not in
//! the database file), readable by the server, and survives a master-key rotation.

use app_server::tenancy::TenantCtx;
use leakguard_domain::ids::TenantId;
use secrecy::ExposeSecret;

use crate::helpers::{Backend, TestDb, cli_with, test_settings};

#[tokio::test]
async fn a_pasted_admin_token_is_sealed_and_survives_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Sqlite, dir.path()).await;
    let token = "shpat_0123456789abcdef0123456789abcdef";
    let out = std::process::Command::new(crate::helpers::binary())
        .args([
            "tenant",
            "create",
            "--platform",
            "shopify",
            "--shop",
            "Custom-App.myshopify.com",
        ])
        .env_clear()
        .env("LEAKGUARD_DATA_DIR", dir.path())
        .env("LEAKGUARD_DATABASE_URL", &db.url)
        .env("LEAKGUARD_TENANT_ACCESS_TOKEN", token)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["tenant"]["shop_domain"], "custom-app.myshopify.com");
    assert!(!String::from_utf8_lossy(&out.stdout).contains(token));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(token));
    let tenant = TenantId(printed["tenant"]["id"].as_str().unwrap().parse().unwrap());

    let raw = std::fs::read(dir.path().join("test.db")).unwrap();
    let wal = std::fs::read(dir.path().join("test.db-wal")).unwrap_or_default();
    for bytes in [&raw, &wal] {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "plaintext token on disk"
        );
    }

    let read = |settings| async move {
        let state = app_server::state::AppState::init(settings).await.unwrap();
        let ctx = TenantCtx::system(tenant, "test");
        app_server::secrets::get(
            &state.db,
            &state.keyring,
            &ctx,
            app_server::tenants::SHOPIFY_TOKEN_SECRET,
        )
        .await
        .unwrap()
        .map(|s| s.expose_secret().to_owned())
    };
    assert_eq!(
        read(test_settings(dir.path(), &db)).await.as_deref(),
        Some(token)
    );

    let out = cli_with(dir.path(), &db.url, &["secrets", "rotate", "--prune"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("re-encrypted 1 secret"));
    let key_lines = std::fs::read_to_string(dir.path().join("master.key")).unwrap();
    assert_eq!(key_lines.lines().count(), 1, "old key pruned");
    assert_eq!(
        read(test_settings(dir.path(), &db)).await.as_deref(),
        Some(token)
    );

    // Another tenant's context cannot read it.
    let state = app_server::state::AppState::init(test_settings(dir.path(), &db))
        .await
        .unwrap();
    let other = TenantCtx::system(TenantId::new(), "test");
    assert!(
        app_server::secrets::get(
            &state.db,
            &state.keyring,
            &other,
            app_server::tenants::SHOPIFY_TOKEN_SECRET
        )
        .await
        .unwrap()
        .is_none()
    );
}

#[tokio::test]
async fn tenant_create_refuses_bad_shops_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(Backend::Sqlite, dir.path()).await;
    for shop in ["evil.com/x.myshopify.com", "x.myshopify.com.evil.test"] {
        let out = cli_with(
            dir.path(),
            &db.url,
            &["tenant", "create", "--platform", "shopify", "--shop", shop],
        );
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("NAME.myshopify.com"));
    }
    let out = cli_with(
        dir.path(),
        &db.url,
        &[
            "tenant",
            "create",
            "--platform",
            "magento",
            "--base-url",
            "https://shop.example.com/",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dup = cli_with(
        dir.path(),
        &db.url,
        &[
            "tenant",
            "create",
            "--platform",
            "magento",
            "--base-url",
            "https://SHOP.example.com",
        ],
    );
    assert!(
        !dup.status.success(),
        "a second tenant for the same store must be refused"
    );
    let list = cli_with(dir.path(), &db.url, &["tenant", "list", "--json"]);
    let tenants: Vec<serde_json::Value> = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0]["base_url"], "https://shop.example.com");
}
