//! The job registry: every background job is a [`Job`] (a name, a cron expression from the
//! settings, and an async function), and [`start`] runs them all in one tokio-cron-scheduler
//! (UTC). Each run goes through the same wrapper: the job's database lease
//! ([`super::run_leased`]), the outcome counted in `leakguard_job_runs_total` (`ok`, `busy`,
//! `failed`) and a failure logged once with its cause chain.
//!
//! This module knows no job: the functions live beside what they serve, and `startup` lists them.

use sea_orm::DatabaseConnection;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use super::{LeasedRun, run_leased};
use crate::metrics::{JobLabels, Metrics};

/// How a run ended, as counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The job did its work.
    Ok,
    /// Someone else holds the lease, or the slot ran already.
    Busy,
    /// The job failed (logged).
    Failed,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Busy => "busy",
            Self::Failed => "failed",
        }
    }
}

/// What a job function returns, seen by the wrapper: most jobs return a count and are `Ok`.
pub trait JobReport: Send + 'static {
    /// The outcome to count.
    fn outcome(&self) -> Outcome {
        Outcome::Ok
    }
}

impl JobReport for usize {}
impl JobReport for u64 {}

type RunFuture = Pin<Box<dyn Future<Output = anyhow::Result<Outcome>> + Send>>;

/// One scheduled job.
#[derive(Clone)]
pub struct Job {
    /// Lease name and metric label.
    pub name: &'static str,
    /// Six-field cron expression (seconds first, UTC), from the settings.
    pub cron: String,
    /// Also run once when the scheduler starts (a slot missed while the server was down).
    pub run_at_start: bool,
    run: Arc<dyn Fn() -> RunFuture + Send + Sync>,
}

impl Job {
    /// A job running `function(context.clone())` at each slot of `cron`.
    pub fn new<C, F, Fut, R>(name: &'static str, cron: &str, context: C, function: F) -> Self
    where
        C: Clone + Send + Sync + 'static,
        F: Fn(C) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = anyhow::Result<R>> + Send + 'static,
        R: JobReport,
    {
        Self {
            name,
            cron: cron.to_owned(),
            run_at_start: false,
            run: Arc::new(move || {
                let run = function(context.clone());
                Box::pin(async move { run.await.map(|report| report.outcome()) })
            }),
        }
    }

    /// Runs the job once more when the scheduler starts.
    pub fn also_at_start(mut self) -> Self {
        self.run_at_start = true;
        self
    }
}

/// What every run needs: the pool for the lease, this process's owner id, the lease TTL, the
/// metrics and the shutdown signal.
#[derive(Clone)]
pub struct Runner {
    /// Database pool (leases).
    pub db: DatabaseConnection,
    /// This process's id as a lease owner.
    pub instance_id: String,
    /// Lease TTL.
    pub ttl: Duration,
    /// Metrics registry.
    pub metrics: Metrics,
    /// Fires when the server stops.
    pub shutdown: watch::Receiver<bool>,
}

impl Runner {
    /// Runs `job` once under its lease, counts and logs the outcome, and returns it.
    pub async fn tick(&self, job: &Job) -> Outcome {
        let name = job.name;
        let run = run_leased(
            &self.db,
            name,
            &self.instance_id,
            self.ttl,
            Some(self.shutdown.clone()),
            |_stop| (job.run)(),
        )
        .await;
        let outcome = match run {
            Ok(LeasedRun::Ran(Ok(outcome))) => outcome,
            Ok(LeasedRun::Busy) => Outcome::Busy,
            Ok(LeasedRun::Ran(Err(e))) => {
                tracing::error!(job = name, error = format!("{e:#}"), "Job failed.");
                Outcome::Failed
            }
            Err(e) => {
                tracing::error!(job = name, error = %e, "Job lease failed.");
                Outcome::Failed
            }
        };
        self.metrics
            .job_runs
            .get_or_create(&JobLabels {
                job: name.into(),
                outcome: outcome.label().into(),
            })
            .inc();
        outcome
    }
}

/// Starts one scheduler running every job at its cron slots (and the `run_at_start` ones now).
pub async fn start(
    jobs: Vec<Job>,
    runner: Runner,
) -> anyhow::Result<tokio_cron_scheduler::JobScheduler> {
    let scheduler = tokio_cron_scheduler::JobScheduler::new().await?;
    for job in jobs {
        if job.run_at_start {
            let (runner, job) = (runner.clone(), job.clone());
            tokio::spawn(async move { runner.tick(&job).await });
        }
        let (runner, cron) = (runner.clone(), job.cron.clone());
        let job = Arc::new(job);
        scheduler
            .add(tokio_cron_scheduler::Job::new_async(
                cron.as_str(),
                move |_, _| {
                    let (runner, job) = (runner.clone(), job.clone());
                    Box::pin(async move {
                        runner.tick(&job).await;
                    })
                },
            )?)
            .await?;
    }
    scheduler.start().await?;
    Ok(scheduler)
}
