//! Prometheus metrics (`/metrics`). Names follow `leakguard_<name>_<unit>_total`.
//!
//! Must not: let a value chosen by a client become a label. Every label comes from a closed set:
//! the method from [`HttpMethod`], the route from the route table (or `unmatched`), the status
//! from the server's own response, the rest from `&'static str` literals in the code. So the
//! number of series is fixed by the build, whatever is sent.

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::fmt::Write as _;
use std::sync::Arc;

/// The method label: the standard methods, every other one (extension methods, invented
/// ones) counted as `other`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `HEAD`.
    Head,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `PATCH`.
    Patch,
    /// `DELETE`.
    Delete,
    /// `OPTIONS`.
    Options,
    /// Any other method.
    Other,
}

impl HttpMethod {
    /// The label of a request method.
    pub fn of(method: &str) -> Self {
        match method {
            "GET" => Self::Get,
            "HEAD" => Self::Head,
            "POST" => Self::Post,
            "PUT" => Self::Put,
            "PATCH" => Self::Patch,
            "DELETE" => Self::Delete,
            "OPTIONS" => Self::Options,
            _ => Self::Other,
        }
    }

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Head => "HEAD",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
            Self::Options => "OPTIONS",
            Self::Other => "other",
        }
    }
}

impl EncodeLabelValue for HttpMethod {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

/// The route label of a request that matched no registered route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Labels of HTTP metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// Method, from a closed set.
    pub method: HttpMethod,
    /// Route template from the route table (`/api/v1/users/{id}`), or [`UNMATCHED_ROUTE`].
    pub route: String,
    /// Status code of the server's response.
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
    /// `stored`, `duplicate`, `busy` (429, the process's slots), `tenant_busy` (429, the
    /// tenant's slots), `quota_exceeded` (429), `timeout` (408) or `rejected` (any other
    /// refusal).
    pub outcome: String,
}

/// Labels of refused agent records.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RecordFieldLabels {
    /// The record field that failed the masking check
    /// (`leakguard_domain::masking::Field`, a closed set).
    pub field: String,
}

/// Labels of detection run metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DetectionLabels {
    /// `ok` or `failed`.
    pub outcome: String,
}

/// Labels of outbox deliveries.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutboxLabels {
    /// The destination kind (`outbound_destinations::Kind::as_str`, a closed set).
    pub kind: String,
    /// `delivered`, `retry` (failed, will be tried again) or `dead` (failed for good).
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
    /// Agent records refused by the masking check, by field.
    pub agent_records_rejected: Family<RecordFieldLabels, Counter>,
    /// Detection runs by outcome.
    pub detection_runs: Family<DetectionLabels, Counter>,
    /// Signals fed to the detection engine.
    pub detection_signals: Counter,
    /// Alerts opened by detection.
    pub alerts_opened: Counter,
    /// Tenants waiting for detection in this process.
    pub detection_queue_tenants: Gauge,
    /// Marks dropped because the detection queue was full (the sweep finds those tenants).
    pub detection_marks_dropped: Counter,
    /// Outbox delivery attempts by destination kind and outcome.
    pub outbox_deliveries: Family<OutboxLabels, Counter>,
    /// Outbox entries waiting (queued or being delivered), as of the last look.
    pub outbox_queued: Gauge,
    /// Outbox entries given up (dead letters), as of the last look.
    pub outbox_dead: Gauge,
    /// Age of the oldest waiting outbox entry, seconds (0 when none waits).
    pub outbox_oldest_age: Gauge,
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
        let agent_records_rejected = Family::<RecordFieldLabels, Counter>::default();
        registry.register(
            "agent_records_rejected",
            "Agent records refused because they carried personal data or a secret, by field",
            agent_records_rejected.clone(),
        );
        let outbox_deliveries = Family::<OutboxLabels, Counter>::default();
        registry.register(
            "outbox_deliveries",
            "Outbox delivery attempts by destination kind and outcome",
            outbox_deliveries.clone(),
        );
        let outbox_queued = Gauge::default();
        registry.register(
            "outbox_queued_events",
            "Outbox entries waiting for delivery",
            outbox_queued.clone(),
        );
        let outbox_dead = Gauge::default();
        registry.register(
            "outbox_dead_events",
            "Outbox entries given up after their last attempt",
            outbox_dead.clone(),
        );
        let outbox_oldest_age = Gauge::default();
        registry.register(
            "outbox_oldest_queued_age_seconds",
            "Age of the oldest outbox entry waiting for delivery",
            outbox_oldest_age.clone(),
        );
        let detection_runs = Family::<DetectionLabels, Counter>::default();
        registry.register(
            "detection_runs",
            "Detection runs by outcome",
            detection_runs.clone(),
        );
        let detection_signals = Counter::default();
        registry.register(
            "detection_signals",
            "Signals fed to the detection engine",
            detection_signals.clone(),
        );
        let alerts_opened = Counter::default();
        registry.register(
            "alerts_opened",
            "Alerts opened by detection",
            alerts_opened.clone(),
        );
        let detection_queue_tenants = Gauge::default();
        registry.register(
            "detection_queue_tenants",
            "Tenants waiting for detection in this process",
            detection_queue_tenants.clone(),
        );
        let detection_marks_dropped = Counter::default();
        registry.register(
            "detection_marks_dropped",
            "Tenants not queued because the detection queue was full (found by the sweep)",
            detection_marks_dropped.clone(),
        );
        Self {
            outbox_deliveries,
            outbox_queued,
            outbox_dead,
            outbox_oldest_age,
            detection_runs,
            detection_signals,
            alerts_opened,
            detection_queue_tenants,
            detection_marks_dropped,
            agent_batches,
            agent_records_rejected,
            registry: Arc::new(registry),
            http_requests,
            http_duration,
            job_runs,
        }
    }

    /// Counts an agent batch upload (the outcome is one of the code's literals).
    pub fn count_batch(&self, outcome: &'static str) {
        self.agent_batches
            .get_or_create(&IngestLabels {
                outcome: outcome.into(),
            })
            .inc();
    }

    /// Counts records refused by the masking check (`field` is one of
    /// `leakguard_domain::masking::Field::as_str`'s literals).
    pub fn count_records_rejected(&self, field: &'static str, n: u64) {
        self.agent_records_rejected
            .get_or_create(&RecordFieldLabels {
                field: field.into(),
            })
            .inc_by(n);
    }

    /// Counts a detection run and what it did.
    pub fn count_detection_run(&self, ok: bool, signals: u64, opened: u64) {
        self.detection_runs
            .get_or_create(&DetectionLabels {
                outcome: if ok { "ok" } else { "failed" }.into(),
            })
            .inc();
        self.detection_signals.inc_by(signals);
        self.alerts_opened.inc_by(opened);
    }

    /// Counts outbox deliveries (`kind` and `outcome` are the code's literals).
    pub fn count_outbox(&self, kind: &'static str, outcome: &'static str, n: u64) {
        if n > 0 {
            self.outbox_deliveries
                .get_or_create(&OutboxLabels {
                    kind: kind.into(),
                    outcome: outcome.into(),
                })
                .inc_by(n);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invented_method_is_counted_as_other_and_adds_no_series() {
        let metrics = Metrics::new();
        for method in ["GET", "BREW", "PROPFIND", "get", "X-\u{1F600}"] {
            metrics
                .http_requests
                .get_or_create(&HttpLabels {
                    method: HttpMethod::of(method),
                    route: UNMATCHED_ROUTE.into(),
                    status: 404,
                })
                .inc();
        }
        let text = metrics.render();
        let series: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("leakguard_http_requests_total{"))
            .collect();
        assert_eq!(series.len(), 2, "{text}");
        assert!(text.contains("method=\"other\",route=\"unmatched\",status=\"404\"} 4"));
        assert!(!text.contains("BREW") && !text.contains("PROPFIND"));
    }
}
