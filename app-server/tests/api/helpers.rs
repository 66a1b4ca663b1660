//! `spawn_app`: a server on port 0 with its own database, plus typed request helpers.

use app_server::config::Settings;
use app_server::startup::Application;
use app_server::state::AppState;
use sea_orm::{ConnectionTrait, Database};
use secrecy::ExposeSecret;
use std::path::PathBuf;
use tempfile::TempDir;

/// Which store a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Defines `NAME::sqlite` and `NAME::postgres` tests from `async fn NAME(backend: Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            pub mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::helpers::postgres_available_or_fail().await {
                        super::$name($crate::helpers::Backend::Postgres).await;
                    }
                }
            }
        )*
    };
}

/// The PostgreSQL server used by tests.
pub fn postgres_admin_url() -> String {
    std::env::var("LEAKGUARD_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// True when PostgreSQL answers. Absent under `CI=true` is a failure; absent elsewhere is
/// reported loudly and the PostgreSQL half of the test is not run.
pub async fn postgres_available_or_fail() -> bool {
    let ok = match Database::connect(postgres_admin_url()).await {
        Ok(db) => db.execute_unprepared("SELECT 1").await.is_ok(),
        Err(_) => false,
    };
    if !ok {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!(
                "PostgreSQL is not reachable at {} and CI=true: start it (see README)",
                postgres_admin_url()
            );
        }
        eprintln!(
            "WARNING: PostgreSQL is not reachable at {}; the PostgreSQL half of this test did not run",
            postgres_admin_url()
        );
    }
    ok
}

/// A database made for one test; a PostgreSQL one is dropped when this is dropped.
pub struct TestDb {
    pub url: String,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn new(backend: Backend, dir: &std::path::Path) -> Self {
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
                pg_name: None,
            },
            Backend::Postgres => {
                let name = format!("lg_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(postgres_admin_url()).await.unwrap();
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                let base = postgres_admin_url();
                let url = match base.rsplit_once('/') {
                    Some((head, _)) => format!("{head}/{name}"),
                    None => panic!("bad postgres url"),
                };
                Self {
                    url,
                    pg_name: Some(name),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_name.take() {
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(admin) = Database::connect(postgres_admin_url()).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Settings for a test server in `dir` on `db`.
pub fn test_settings(dir: &std::path::Path, db: &TestDb) -> Settings {
    let mut settings = Settings {
        listen: "127.0.0.1:0".into(),
        data_dir: dir.to_path_buf(),
        database_url: Some(db.url.clone().into()),
        ..Settings::default()
    };
    settings.jobs.enabled = false;
    settings
}

/// A running server.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: actix_web::web::Data<AppState>,
    pub dir: TempDir,
    pub db: TestDb,
    pub backend: Backend,
}

/// A module's key id and secret.
pub struct ModuleKey {
    pub key_id: String,
    pub secret: String,
}

/// A tenant made for a test, with its owner's API key.
pub struct TestTenant {
    pub id: uuid::Uuid,
    pub key: String,
    pub owner: uuid::Uuid,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// A server whose settings `adjust` changes first.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    app_server::install_crypto_provider();
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(backend, dir.path()).await;
    let mut settings = test_settings(dir.path(), &db);
    adjust(&mut settings);
    let app = Application::build(settings).await.unwrap();
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        state,
        dir,
        db,
        backend,
    }
}

impl TestApp {
    pub async fn create_tenant(&self, shop: &str) -> TestTenant {
        let created = app_server::tenants::create_tenant(
            &self.state.db,
            &self.state.keyring,
            app_server::tenants::PlatformAddress::parse("shopify", shop).unwrap(),
            None,
            &leakguard_domain::audit::Actor::new("operator", "test"),
        )
        .await
        .unwrap();
        TestTenant {
            id: created.tenant.id,
            key: created.owner_api_key.expose_secret().to_owned(),
            owner: created.owner.as_uuid(),
        }
    }

    /// A Shopify tenant with a stored Admin API token.
    pub async fn create_shopify_tenant_with_token(&self, shop: &str, token: &str) -> TestTenant {
        let created = app_server::tenants::create_tenant(
            &self.state.db,
            &self.state.keyring,
            app_server::tenants::PlatformAddress::parse("shopify", shop).unwrap(),
            Some(secrecy::SecretString::from(token.to_owned())),
            &leakguard_domain::audit::Actor::new("operator", "test"),
        )
        .await
        .unwrap();
        TestTenant {
            id: created.tenant.id,
            key: created.owner_api_key.expose_secret().to_owned(),
            owner: created.owner.as_uuid(),
        }
    }

    /// Adds a user with `role` to a tenant and returns an API key of theirs.
    pub async fn user_key(&self, tenant: &TestTenant, external_id: &str, role: &str) -> String {
        let res = self
            .post_json(
                "/api/v1/users",
                &tenant.key,
                serde_json::json!({"external_id": external_id, "display_name": external_id, "role": role}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let user: serde_json::Value = res.json().await.unwrap();
        let res = self
            .post_json(
                &format!("/api/v1/users/{}/api-keys", user["id"].as_str().unwrap()),
                &tenant.key,
                serde_json::json!({}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: serde_json::Value = res.json().await.unwrap();
        body["api_key"].as_str().unwrap().to_owned()
    }

    pub async fn create_magento_tenant(&self, base_url: &str) -> TestTenant {
        let created = app_server::tenants::create_tenant(
            &self.state.db,
            &self.state.keyring,
            app_server::tenants::PlatformAddress::parse("magento", base_url).unwrap(),
            None,
            &leakguard_domain::audit::Actor::new("operator", "test"),
        )
        .await
        .unwrap();
        TestTenant {
            id: created.tenant.id,
            key: created.owner_api_key.expose_secret().to_owned(),
            owner: created.owner.as_uuid(),
        }
    }

    /// Issues a module enrollment token through the admin route.
    pub async fn module_token(&self, t: &TestTenant) -> String {
        let res = self
            .post_json(
                "/api/v1/magento/enrollment-tokens",
                &t.key,
                serde_json::json!({}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let body: serde_json::Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_owned()
    }

    /// Enrolls the tenant's module; returns (key id, secret).
    pub async fn enroll_module(&self, t: &TestTenant, base_url: &str) -> ModuleKey {
        let token = self.module_token(t).await;
        let res = self
            .client
            .post(self.url("/api/v1/magento/enroll"))
            .json(&serde_json::json!({"enrollment_token": token, "base_url": base_url, "module_version": "1.0.0"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["tenant_id"], t.id.to_string());
        ModuleKey {
            key_id: body["key_id"].as_str().unwrap().to_owned(),
            secret: body["secret"].as_str().unwrap().to_owned(),
        }
    }

    /// Sends a request signed as the module with a fresh timestamp and nonce.
    pub async fn signed(
        &self,
        key: &ModuleKey,
        method: &str,
        path: &str,
        body: &str,
    ) -> reqwest::Response {
        let ts = (app_server::db::now_ms() / 1000).to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        self.signed_with(key, method, path, body, &ts, &nonce).await
    }

    /// Sends a request signed as the module with the given timestamp and nonce.
    pub async fn signed_with(
        &self,
        key: &ModuleKey,
        method: &str,
        path: &str,
        body: &str,
        ts: &str,
        nonce: &str,
    ) -> reqwest::Response {
        let sig = app_server::magento::signature::sign(
            key.secret.as_bytes(),
            ts,
            nonce,
            method,
            path,
            body.as_bytes(),
        );
        self.raw_signed(key, method, path, body, ts, nonce, &sig)
            .await
    }

    /// Sends a module request with explicit headers.
    #[allow(clippy::too_many_arguments)]
    pub async fn raw_signed(
        &self,
        key: &ModuleKey,
        method: &str,
        path: &str,
        body: &str,
        ts: &str,
        nonce: &str,
        sig: &str,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.client
            .request(method, self.url(path))
            .header("X-LeakGuard-Key-Id", &key.key_id)
            .header("X-LeakGuard-Timestamp", ts)
            .header("X-LeakGuard-Nonce", nonce)
            .header("X-LeakGuard-Signature", sig)
            .header("Content-Type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    /// Rows of a table for a tenant (raw count, for "nothing changed" checks).
    pub async fn count_rows(&self, table: &str, tenant: uuid::Uuid) -> i64 {
        use sea_orm::{ConnectionTrait, Statement};
        let backend = self.state.db.get_database_backend();
        let sql = match backend {
            sea_orm::DbBackend::Postgres => {
                format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = $1")
            }
            _ => format!("SELECT COUNT(*) AS n FROM {table} WHERE tenant_id = ?"),
        };
        let row = self
            .state
            .db
            .query_one_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [tenant.into()],
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    pub async fn post_json(
        &self,
        path: &str,
        key: &str,
        body: serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Runs the real `leakguard` binary against this app's data directory and database.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        cli_with(self.dir.path(), &self.db.url, args)
    }

    /// Waits until streaming detection has processed every stored input (the worker's run
    /// commits the cursor with its alerts and audit entries), at most 60 s.
    pub async fn settle_detection(&self) {
        use app_server::db::entities::detection_cursors as dc;
        use sea_orm::sea_query::{Expr, ExprTrait};
        use sea_orm::{EntityTrait, PaginatorTrait, QueryFilter};
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let pending = dc::Entity::find()
                .filter(Expr::col(dc::Column::ProcessedSeq).lt(Expr::col(dc::Column::InputSeq)))
                .count(&self.state.db)
                .await
                .unwrap();
            if pending == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "detection did not process its inputs within 60 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    pub async fn audit_count(&self, tenant: uuid::Uuid) -> i64 {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        app_server::db::entities::audit_entries::Entity::find()
            .filter(app_server::db::entities::audit_entries::Column::ChainId.eq(tenant))
            .count(&self.state.db)
            .await
            .unwrap() as i64
    }
}

pub fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_leakguard"))
}

/// Runs the binary with only the given data directory and database as configuration.
pub fn cli_with(dir: &std::path::Path, db_url: &str, args: &[&str]) -> std::process::Output {
    cli_with_env(dir, db_url, args, &[])
}

/// `cli_with` plus extra environment variables.
pub fn cli_with_env(
    dir: &std::path::Path,
    db_url: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    std::process::Command::new(binary())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LEAKGUARD_DATA_DIR", dir)
        .env("LEAKGUARD_DATABASE_URL", db_url)
        .env("LEAKGUARD_LOG_LEVEL", "warn")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}
