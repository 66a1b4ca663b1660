//! Application assembly: state, routes, middleware, the HTTP server and the job scheduler.
//! Every route and every piece of app data is wired here only.

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware::from_fn, web};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use crate::audit_chain::{CheckpointPolicy, Checkpointer};
use crate::config::Settings;
use crate::crypto::{AuditSigner, Keyring};
use crate::http::{error, middleware, routes};
use crate::jobs::registry::{self, Job, Runner};
use crate::metrics::Metrics;
use crate::permission_audits::AuditSources;
use crate::permission_audits::schedule::ScheduledAudits;
use crate::shopify::{Shopify, ShopifyAdapter};
use crate::state::AppState;

impl AppState {
    /// Connects, migrates, loads the keys, registers the signing key and builds the handles
    /// each service is given.
    pub async fn init(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::db::connect(&settings).await?;
        migrations::migrate(&db)
            .await
            .map_err(|e| anyhow::anyhow!("database migration failed: {e}"))?;
        let keyring = Keyring::load(&settings)?;
        let policy = CheckpointPolicy::from_cron(
            &settings.jobs.audit_checkpoint_cron,
            settings.jobs.audit_checkpoint_grace_secs,
            crate::db::now_ms(),
        )
        .map_err(|e| anyhow::anyhow!("jobs.audit_checkpoint_cron: {e}"))?;
        let checkpointer = Checkpointer {
            signer: AuditSigner::load(&settings)?,
            policy,
        };
        crate::audit_chain::register_signing_key(&db, &checkpointer).await?;
        let detection = crate::alerts::DetectionQueue::new();
        let shopify = ShopifyAdapter {
            db: db.clone(),
            keyring: keyring.clone(),
            shopify: Arc::new(Shopify::new(&settings)?),
            detection: detection.clone(),
        };
        let metrics = Metrics::new();
        let outbound =
            crate::outbox::Outbound::new(db.clone(), keyring.clone(), &settings, metrics.clone())?;
        Ok(Self {
            outbound,
            permission_sources: AuditSources {
                shopify: shopify.clone(),
                shopify_settings: settings.shopify.clone(),
            },
            shopify,
            detection,
            ingest_gate: Arc::new(crate::ingest::gate::IngestGate::new(
                settings.ingest.max_in_flight,
                settings.ingest.per_tenant_in_flight,
                settings.ingest.processing_slots,
            )),
            db,
            settings,
            keyring,
            checkpointer,
            metrics,
            instance_id: format!("{}-{}", std::process::id(), uuid::Uuid::now_v7()),
        })
    }
}

/// A built server, bound to its port.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    shutdown_tx: watch::Sender<bool>,
}

impl Application {
    /// Initialises state and binds the listener (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let state = AppState::init(settings).await?;
        Self::build_with_state(state)
    }

    /// Binds the listener for an existing state.
    pub fn build_with_state(state: AppState) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(&state.settings.listen)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", state.settings.listen))?;
        let port = listener.local_addr()?.port();
        let shutdown_secs = state.settings.shutdown_timeout_secs;
        let max_body = state.settings.max_body_bytes;
        let state = web::Data::new(state);
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .app_data(
                    web::JsonConfig::default()
                        .limit(max_body)
                        .error_handler(error::json_error_handler),
                )
                .app_data(web::QueryConfig::default().error_handler(error::query_error_handler))
                .app_data(web::PathConfig::default().error_handler(error::path_error_handler))
                .app_data(web::PayloadConfig::default().limit(max_body))
                .wrap(from_fn(middleware::refuse_content_encoding))
                .wrap(from_fn(middleware::request_context))
                .configure(routes::configure)
                .default_service(web::to(|| async {
                    Err::<actix_web::HttpResponse, _>(error::ApiError::not_found())
                }))
        })
        .shutdown_timeout(shutdown_secs)
        .listen(listener)?
        .run();
        let (shutdown_tx, _) = watch::channel(false);
        Ok(Self {
            port,
            server,
            state,
            shutdown_tx,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The shared state.
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGTERM/SIGINT (actix stops accepting, lets in-flight requests finish), and
    /// runs the scheduler beside it; jobs are told to stop at a safe point.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let scheduler = if self.state.settings.jobs.enabled {
            let runner = Runner {
                db: self.state.db.clone(),
                instance_id: self.state.instance_id.clone(),
                ttl: Duration::from_secs(self.state.settings.jobs.lease_ttl_secs),
                metrics: self.state.metrics.clone(),
                shutdown: self.shutdown_tx.subscribe(),
            };
            Some(registry::start(jobs(&self.state), runner).await?)
        } else {
            None
        };
        // Streaming detection: a few long-lived workers over the queue of tenants with new
        // inputs (see `alerts::queue`); they sweep for unprocessed inputs at start.
        let detection_workers: Vec<_> = (0..crate::alerts::queue::WORKERS)
            .map(|_| {
                tokio::spawn(crate::alerts::queue::run_worker(
                    self.state.db.clone(),
                    self.state.detection.clone(),
                    self.state.metrics.clone(),
                    self.shutdown_tx.subscribe(),
                ))
            })
            .collect();
        let result = self.server.await;
        let _ = self.shutdown_tx.send(true);
        for worker in detection_workers {
            let _ = worker.await;
        }
        if let Some(mut scheduler) = scheduler {
            let _ = scheduler.shutdown().await;
        }
        // Sign what this process appended since the last slot, so that a long stop does not
        // leave entries waiting for a checkpoint.
        if let Err(e) =
            crate::audit_chain::checkpoint_job(&self.state.db, &self.state.checkpointer).await
        {
            tracing::warn!(
                error = format!("{e:#}"),
                "Could not sign audit checkpoints at shutdown."
            );
        }
        tracing::info!("Server stopped.");
        result.map_err(Into::into)
    }
}

/// Every background job with its cron setting. The functions live beside what they serve.
pub fn jobs(state: &AppState) -> Vec<Job> {
    let settings = &state.settings.jobs;
    let db = state.db.clone();
    vec![
        Job::new(
            "audit_checkpoint",
            &settings.audit_checkpoint_cron,
            (db.clone(), state.checkpointer.clone()),
            |(db, checkpointer)| async move {
                crate::audit_chain::checkpoint_job(&db, &checkpointer).await
            },
        ),
        Job::new("prune", &settings.prune_cron, db.clone(), |db| async move {
            crate::jobs::prune::prune_job(&db, crate::db::now_ms()).await
        }),
        Job::new(
            "retention",
            &settings.retention_cron,
            (db.clone(), state.instance_id.clone()),
            |(db, owner)| async move { crate::retention::retention_job(&db, &owner).await },
        )
        .also_at_start(),
        Job::new(
            "permission_audits",
            &settings.permission_audit_cron,
            scheduled_audits(state),
            |audits| async move {
                crate::permission_audits::schedule::permission_audit_job(
                    &audits,
                    crate::db::now_ms(),
                )
                .await
            },
        ),
        Job::new(
            "incident_reminders",
            &settings.incident_reminder_cron,
            db.clone(),
            |db| async move { crate::incidents::reminder_job(&db, crate::db::now_ms()).await },
        )
        .also_at_start(),
        Job::new(
            "outbox_delivery",
            &state.settings.outbound.delivery_cron,
            state.outbound.clone(),
            |outbound| async move {
                crate::outbox::deliver_due(&outbound, crate::db::now_ms(), OUTBOX_PASS_BUDGET_MS)
                    .await
            },
        ),
        Job::new(
            "shopify_webhook_retry",
            SHOPIFY_WEBHOOK_RETRY_CRON,
            state.shopify.clone(),
            |shopify| async move {
                crate::shopify::webhooks::retry_deliveries_job(&shopify, crate::db::now_ms()).await
            },
        ),
    ]
}

/// What the `permission_audits` job is given.
pub fn scheduled_audits(state: &AppState) -> ScheduledAudits {
    ScheduledAudits {
        sources: state.permission_sources.clone(),
        instance_id: state.instance_id.clone(),
        default_schedule: state
            .settings
            .jobs
            .permission_audit_default_schedule
            .clone(),
    }
}

/// Wall time one run of the delivery job may spend before it lets the next slot continue.
const OUTBOX_PASS_BUDGET_MS: i64 = 30_000;

/// Deliveries whose processing failed are looked at every 30 s (each has its own back-off).
const SHOPIFY_WEBHOOK_RETRY_CRON: &str = "*/30 * * * * *";
