//! Application assembly: state, routes, middleware, the HTTP server and the job scheduler.
//! Every route and every piece of app data is wired here only.

use actix_web::dev::Server;
use actix_web::{App, HttpServer, middleware::from_fn, web};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use crate::config::Settings;
use crate::http::{error, middleware, routes};
use crate::metrics::JobLabels;
use crate::state::AppState;

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
            Some(start_scheduler(self.state.clone(), self.shutdown_tx.subscribe()).await?)
        } else {
            None
        };
        let result = self.server.await;
        let _ = self.shutdown_tx.send(true);
        if let Some(mut scheduler) = scheduler {
            let _ = scheduler.shutdown().await;
        }
        tracing::info!("Server stopped.");
        result.map_err(Into::into)
    }
}

/// Job: sign a checkpoint of every chain whose head moved.
pub async fn audit_checkpoint_job(state: &AppState) -> anyhow::Result<usize> {
    Ok(crate::audit_chain::checkpoint_all(&state.db, &state.signer).await?)
}

/// Job: start the permission audits whose schedule slot is due.
pub async fn permission_audit_job(state: &AppState) -> anyhow::Result<usize> {
    crate::permission_audits::schedule::permission_audit_job(state, crate::db::now_ms()).await
}

async fn permission_tick(state: &AppState, ttl: Duration, shutdown: watch::Receiver<bool>) {
    leased_tick(state, ttl, shutdown, "permission_audits", || {
        permission_audit_job(state)
    })
    .await;
}

/// Runs a job function under its lease and counts the outcome (`ok`, `busy`, `failed`) in
/// `leakguard_job_runs_total`; a failure is logged once with its cause chain.
async fn leased_tick<T, F, Fut>(
    state: &AppState,
    ttl: Duration,
    shutdown: watch::Receiver<bool>,
    name: &'static str,
    job: F,
) where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>>,
{
    let run = crate::jobs::run_leased(
        &state.db,
        name,
        &state.instance_id,
        ttl,
        Some(shutdown),
        |_stop| job(),
    )
    .await;
    let outcome = match run {
        Ok(crate::jobs::LeasedRun::Ran(Ok(_))) => "ok",
        Ok(crate::jobs::LeasedRun::Busy) => "busy",
        Ok(crate::jobs::LeasedRun::Ran(Err(e))) => {
            tracing::error!(job = name, error = format!("{e:#}"), "Job failed.");
            "failed"
        }
        Err(e) => {
            tracing::error!(job = name, error = %e, "Job lease failed.");
            "failed"
        }
    };
    count_run(state, name, outcome);
}

fn count_run(state: &AppState, name: &'static str, outcome: &'static str) {
    state
        .metrics
        .job_runs
        .get_or_create(&JobLabels {
            job: name.into(),
            outcome: outcome.into(),
        })
        .inc();
}

/// Job: delete expired HMAC nonces and SSO token ids, ended console sessions, and enrollment
/// tokens expired for a week. Returns how many rows went.
pub async fn prune_job(state: &AppState, now_ms: i64) -> anyhow::Result<u64> {
    const WEEK_MS: i64 = 7 * 24 * 3600 * 1000;
    let nonces = crate::magento::replay::prune(&state.db, now_ms).await?;
    let sessions = crate::console::prune(&state.db, now_ms).await?;
    let tokens = crate::enrollment::prune(&state.db, now_ms, WEEK_MS).await?;
    Ok(nonces + sessions + tokens)
}

async fn retention_tick(state: &AppState, ttl: Duration, shutdown: watch::Receiver<bool>) {
    let name = "retention";
    let now = crate::db::now_ms();
    let run = crate::jobs::run_leased(
        &state.db,
        name,
        &state.instance_id,
        ttl,
        Some(shutdown),
        |_stop| {
            crate::retention::run_job(
                &state.db,
                &state.instance_id,
                crate::retention::daily_slot(now),
                now,
            )
        },
    )
    .await;
    let outcome = match run {
        Ok(crate::jobs::LeasedRun::Ran(Ok(crate::retention::JobOutcome::Ran {
            failed: 0,
            ..
        }))) => "ok",
        Ok(crate::jobs::LeasedRun::Ran(Ok(crate::retention::JobOutcome::Ran { .. }))) => "failed",
        Ok(crate::jobs::LeasedRun::Ran(Ok(crate::retention::JobOutcome::AlreadyRan)))
        | Ok(crate::jobs::LeasedRun::Busy) => "busy",
        Ok(crate::jobs::LeasedRun::Ran(Err(e))) => {
            tracing::error!(job = name, error = %e, "Job failed.");
            "failed"
        }
        Err(e) => {
            tracing::error!(job = name, error = %e, "Job lease failed.");
            "failed"
        }
    };
    count_run(state, name, outcome);
}

async fn start_scheduler(
    state: web::Data<AppState>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<tokio_cron_scheduler::JobScheduler> {
    use tokio_cron_scheduler::{Job, JobScheduler};
    let scheduler = JobScheduler::new().await?;
    let ttl = Duration::from_secs(state.settings.jobs.lease_ttl_secs);
    let cron = state.settings.jobs.audit_checkpoint_cron.clone();
    let retention_cron = state.settings.jobs.retention_cron.clone();
    let permission_cron = state.settings.jobs.permission_audit_cron.clone();
    let job_state = Arc::new(state);
    let checkpoint_state = job_state.clone();
    let checkpoint_shutdown = shutdown.clone();
    scheduler
        .add(Job::new_async(cron.as_str(), move |_, _| {
            let state = checkpoint_state.clone();
            let shutdown = checkpoint_shutdown.clone();
            Box::pin(async move {
                leased_tick(&state, ttl, shutdown, "audit_checkpoint", || {
                    audit_checkpoint_job(&state)
                })
                .await;
            })
        })?)
        .await?;
    let prune_state = job_state.clone();
    let prune_shutdown = shutdown.clone();
    let prune_cron = prune_state.settings.jobs.prune_cron.clone();
    scheduler
        .add(Job::new_async(prune_cron.as_str(), move |_, _| {
            let state = prune_state.clone();
            let shutdown = prune_shutdown.clone();
            Box::pin(async move {
                leased_tick(&state, ttl, shutdown, "prune", || {
                    prune_job(&state, crate::db::now_ms())
                })
                .await;
            })
        })?)
        .await?;
    {
        let state = job_state.clone();
        let shutdown = shutdown.clone();
        scheduler
            .add(Job::new_async(retention_cron.as_str(), move |_, _| {
                let state = state.clone();
                let shutdown = shutdown.clone();
                Box::pin(async move { retention_tick(&state, ttl, shutdown).await })
            })?)
            .await?;
    }
    {
        let state = job_state.clone();
        let shutdown = shutdown.clone();
        scheduler
            .add(Job::new_async(permission_cron.as_str(), move |_, _| {
                let state = state.clone();
                let shutdown = shutdown.clone();
                Box::pin(async move {
                    // The Shopify Admin API client's futures are not `Send`; the tick runs on a
                    // blocking thread that drives it with the runtime's handle.
                    let handle = tokio::runtime::Handle::current();
                    let tick = tokio::task::spawn_blocking(move || {
                        handle.block_on(permission_tick(&state, ttl, shutdown))
                    });
                    if let Err(e) = tick.await {
                        tracing::error!(job = "permission_audits", error = %e, "Job task failed.");
                    }
                })
            })?)
            .await?;
    }
    // A day missed while the server was down runs now (once across replicas: the slot is claimed).
    {
        let state = job_state.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move { retention_tick(&state, ttl, shutdown).await });
    }
    scheduler
        .add(shopify_webhook_retry_schedule(
            job_state.clone(),
            shutdown.clone(),
            ttl,
            "shopify_webhook_retry",
            "*/30 * * * * *",
        )?)
        .await?;
    scheduler.start().await?;
    Ok(scheduler)
}

/// Job: process Shopify webhook deliveries that are due (failed, or never picked up).
pub async fn shopify_webhook_retry_job(state: &AppState) -> anyhow::Result<usize> {
    crate::shopify::webhooks::retry_deliveries_job(state, crate::db::now_ms()).await
}

fn shopify_webhook_retry_schedule(
    state: Arc<web::Data<AppState>>,
    shutdown: watch::Receiver<bool>,
    ttl: Duration,
    name: &'static str,
    cron: &str,
) -> anyhow::Result<tokio_cron_scheduler::Job> {
    Ok(tokio_cron_scheduler::Job::new_async(cron, move |_, _| {
        let state = state.clone();
        let shutdown = shutdown.clone();
        Box::pin(async move {
            leased_tick(&state, ttl, shutdown, name, || {
                shopify_webhook_retry_job(&state)
            })
            .await;
        })
    })?)
}
