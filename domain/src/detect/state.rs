//! The engine's serializable state, so a server can persist it between batches.
//!
//! Owns the per-principal state (identity, first/last seen, baselines per volume family and
//! category, job schedules), the login trails, open episodes, suppressions and counters.
//! Maps with structured keys serialize as lists of pairs so the state is plain JSON.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::alert::{Alert, RuleId};
use super::baseline::VolumeBaseline;
use super::feedback::Suppression;
use super::recurring::JobHistory;
use super::signal::{Category, CategorySet, Identity, PrincipalKey};

/// Version of the state layout.
pub const STATE_VERSION: u32 = 1;

/// Which volume a baseline measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VolumeFamily {
    /// SQL rows or statements.
    Sql,
    /// Admin exports (records).
    Export,
    /// Admin record views.
    View,
    /// REST / Admin API reads.
    Api,
}

/// Which recurring job a history tracks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Database dumps.
    Dump,
    /// Admin exports.
    Export,
    /// Shopify bulk operations.
    Bulk,
}

/// One baseline of a principal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyedBaseline {
    /// The volume measured.
    pub family: VolumeFamily,
    /// The category.
    pub category: Category,
    /// The statistics.
    pub baseline: VolumeBaseline,
}

/// State of one principal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrincipalState {
    /// Identity as first seen.
    pub identity: Identity,
    /// First activity (unix seconds).
    pub first_seen: i64,
    /// Last activity before the current one.
    pub last_seen: i64,
    /// Start of the current activity after a dormancy (or first sight).
    pub active_since: i64,
    /// Categories ever touched.
    pub seen_categories: CategorySet,
    /// Baselines by (family, category).
    pub baselines: Vec<KeyedBaseline>,
    /// Recurring job histories.
    pub jobs: Vec<(JobKind, JobHistory)>,
}

impl PrincipalState {
    /// A principal first seen at `at`.
    pub fn new(identity: Identity, at: i64) -> Self {
        PrincipalState {
            identity,
            first_seen: at,
            last_seen: at,
            active_since: at,
            seen_categories: CategorySet::EMPTY,
            baselines: Vec::new(),
            jobs: Vec::new(),
        }
    }

    /// The baseline for (family, category), created at `hour` when missing.
    pub fn baseline_mut(
        &mut self,
        family: VolumeFamily,
        category: Category,
        hour: i64,
    ) -> &mut VolumeBaseline {
        let index = match self
            .baselines
            .iter()
            .position(|b| b.family == family && b.category == category)
        {
            Some(index) => index,
            None => {
                self.baselines.push(KeyedBaseline {
                    family,
                    category,
                    baseline: VolumeBaseline::new(hour),
                });
                self.baselines.len() - 1
            }
        };
        &mut self.baselines[index].baseline
    }

    /// The job history of `kind`, created when missing.
    pub fn job_mut(&mut self, kind: JobKind) -> &mut JobHistory {
        let index = match self.jobs.iter().position(|(k, _)| *k == kind) {
            Some(index) => index,
            None => {
                self.jobs.push((kind, JobHistory::default()));
                self.jobs.len() - 1
            }
        };
        &mut self.jobs[index].1
    }

    /// Whether the principal has a job history of `kind`.
    pub fn has_job(&self, kind: JobKind) -> bool {
        self.jobs
            .iter()
            .any(|(k, h)| *k == kind && !h.session_starts.is_empty())
    }

    /// Approximate bytes held.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self
                .baselines
                .iter()
                .map(|b| b.baseline.heap_bytes() + 8)
                .sum::<usize>()
            + self
                .jobs
                .iter()
                .map(|(_, h)| std::mem::size_of::<JobHistory>() + h.session_starts.len() * 8)
                .sum::<usize>()
            + 64
    }
}

/// Recent admin login failures from one IP or for one admin.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginTrail {
    /// Times of the last failures (unix seconds), oldest first, at most 64.
    pub failures: Vec<i64>,
}

/// Counters for diagnostics.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Signals processed.
    pub signals: u64,
    /// Signals older than the clock (processed at the clock's time).
    pub late_signals: u64,
    /// Findings silenced by a suppression.
    pub suppressed_findings: u64,
    /// Alerts opened.
    pub alerts_opened: u64,
    /// Principals not modeled because the principal cap was reached.
    pub principals_dropped: u64,
}

/// Everything the engine remembers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EngineState {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// Latest signal time seen (unix seconds).
    pub clock: i64,
    /// First signal time seen.
    pub started_at: Option<i64>,
    /// Per principal.
    #[serde(with = "pairs")]
    pub principals: HashMap<PrincipalKey, PrincipalState>,
    /// Failed logins by IP or admin.
    #[serde(with = "pairs")]
    pub logins: HashMap<String, LoginTrail>,
    /// Open episodes.
    #[serde(with = "pairs")]
    pub open: HashMap<(PrincipalKey, RuleId), Alert>,
    /// Suppressions, revoked ones included.
    pub suppressions: Vec<Suppression>,
    /// Next alert id.
    pub next_alert_id: u64,
    /// Counters.
    pub counters: Counters,
}

impl EngineState {
    /// Approximate bytes held by the per-principal state.
    pub fn principal_bytes(&self) -> usize {
        self.principals
            .iter()
            .map(|(key, state)| std::mem::size_of_val(key) + 32 + state.heap_bytes())
            .sum()
    }
}

/// Serializes a map as a list of `[key, value]` pairs.
mod pairs {
    use std::collections::HashMap;
    use std::hash::Hash;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K, V, S>(map: &HashMap<K, V>, serializer: S) -> Result<S::Ok, S::Error>
    where
        K: Serialize,
        V: Serialize,
        S: Serializer,
    {
        serializer.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(deserializer: D) -> Result<HashMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        let pairs: Vec<(K, V)> = Vec::deserialize(deserializer)?;
        Ok(pairs.into_iter().collect())
    }
}
