//! Prometheus metrics (`/metrics`). Names follow `leakguard_<name>_<unit>_total`; labels have
//! bounded cardinality (route templates, never raw paths).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// Labels of HTTP metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// Method.
    pub method: String,
    /// Route template (`/api/v1/users/{id}`), or `unmatched`.
    pub route: String,
    /// Status code.
    pub status: u16,
}

/// Labels of job metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    /// Job name.
    pub job: String,
    /// `ok`, `failed` or `busy` (another replica held the lease).
    pub outcome: String,
}

/// Labels of agent batch metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IngestLabels {
    /// `stored`, `duplicate`, `busy` (429) or `rejected` (any other refusal).
    pub outcome: String,
}

/// The server's metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    /// Requests served.
    pub http_requests: Family<HttpLabels, Counter>,
    /// Request latency in seconds.
    pub http_duration: Family<HttpLabels, Histogram>,
    /// Job runs.
    pub job_runs: Family<JobLabels, Counter>,
    /// Agent batch uploads by outcome.
    pub agent_batches: Family<IngestLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("leakguard");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests served",
            http_requests.clone(),
        );
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            http_duration.clone(),
        );
        let job_runs = Family::<JobLabels, Counter>::default();
        registry.register("job_runs", "Background job runs", job_runs.clone());
        let agent_batches = Family::<IngestLabels, Counter>::default();
        registry.register(
            "agent_batches",
            "Agent batch uploads by outcome",
            agent_batches.clone(),
        );
        Self {
            agent_batches,
            registry: Arc::new(registry),
            http_requests,
            http_duration,
            job_runs,
        }
    }

    /// Counts an agent batch upload.
    pub fn count_batch(&self, outcome: &str) {
        self.agent_batches
            .get_or_create(&IngestLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
