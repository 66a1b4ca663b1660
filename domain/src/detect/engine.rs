//! The detection engine: time-ordered signals in, alert episodes out.
//!
//! Owns dispatch of a signal to the rules, the episode logic (one open alert per principal
//! and rule, growing while activity continues, closing after the rule's quiet gap) and
//! feedback. Pure: the caller supplies signals with their own timestamps as the clock and
//! persists [`EngineState`]. Never panics on odd input: late signals are processed at the
//! clock's time and counted.

use super::alert::{Alert, RecordsMethod, RuleId, Severity};
use super::categories::scope_categories;
use super::feedback::{Suppression, SuppressionScope};
use super::recurring::Occurrence;
use super::rules::{
    Finding, RuleConfig, records_method, volume_family, volume_floor, volume_rule, volume_severity,
};
use super::signal::{Category, CategorySet, PrincipalKey, Signal, SignalKind};
use super::state::{EngineState, JobKind, PrincipalState, STATE_VERSION, VolumeFamily};

const SWEEP_EVERY_S: i64 = 60;
const MAX_LOGIN_TRAILS: usize = 50_000;

/// The engine: configuration, state, and alerts closed since the last [`Engine::take_closed`].
#[derive(Debug, Clone)]
pub struct Engine {
    config: RuleConfig,
    state: EngineState,
    closed: Vec<Alert>,
    next_sweep: i64,
}

impl Engine {
    /// A fresh engine.
    pub fn new(config: RuleConfig) -> Self {
        Self::from_state(
            config,
            EngineState {
                version: STATE_VERSION,
                ..EngineState::default()
            },
        )
    }

    /// An engine resuming from persisted state.
    pub fn from_state(config: RuleConfig, state: EngineState) -> Self {
        Engine {
            config,
            state,
            closed: Vec::new(),
            next_sweep: i64::MIN,
        }
    }

    /// The state, for persisting.
    pub fn state(&self) -> &EngineState {
        &self.state
    }

    /// The configuration.
    pub fn config(&self) -> &RuleConfig {
        &self.config
    }

    /// Alerts still open.
    pub fn open_alerts(&self) -> impl Iterator<Item = &Alert> {
        self.state.open.values()
    }

    /// Alerts closed since the last call.
    pub fn take_closed(&mut self) -> Vec<Alert> {
        std::mem::take(&mut self.closed)
    }

    /// Closes every open alert (end of a replay) and returns all closed alerts, in order of
    /// detection.
    pub fn finish(&mut self) -> Vec<Alert> {
        let open: Vec<Alert> = self.state.open.drain().map(|(_, alert)| alert).collect();
        self.closed.extend(open);
        let mut closed = self.take_closed();
        closed.sort_by_key(|a| (a.detected_at, a.id));
        closed
    }

    /// Moves the clock to `now` and closes quiet episodes.
    pub fn advance(&mut self, now: i64) {
        if now > self.state.clock {
            self.state.clock = now;
        }
        if self.state.clock < self.next_sweep {
            return;
        }
        self.next_sweep = self.state.clock.saturating_add(SWEEP_EVERY_S);
        let clock = self.state.clock;
        let quiet: Vec<(PrincipalKey, RuleId)> = self
            .state
            .open
            .iter()
            .filter(|(_, alert)| {
                clock.saturating_sub(alert.last_seen_at) > alert.rule.episode_gap_s()
            })
            .map(|(key, _)| key.clone())
            .collect();
        for key in quiet {
            if let Some(alert) = self.state.open.remove(&key) {
                self.closed.push(alert);
            }
        }
    }

    /// Whether the tenant is still in its first day of watching.
    fn learning(&self, at: i64) -> bool {
        self.state
            .started_at
            .is_some_and(|started| at.saturating_sub(started) < self.config.learning_s)
    }

    fn local_hour(&self, at: i64) -> i64 {
        at.saturating_add(self.config.utc_offset_s).div_euclid(3600)
    }

    fn local_day(&self, at: i64) -> i64 {
        at.saturating_add(self.config.utc_offset_s)
            .div_euclid(86_400)
    }

    /// Processes one signal.
    pub fn ingest(&mut self, signal: &Signal) {
        let counters = &mut self.state.counters;
        counters.signals += 1;
        let at = if signal.at < self.state.clock {
            counters.late_signals += 1;
            self.state.clock
        } else {
            signal.at
        };
        self.advance(at);
        let started = *self.state.started_at.get_or_insert(at);
        let key = signal.identity.key();
        match signal.kind {
            SignalKind::LoginFailure => return self.login_failure(signal, at),
            SignalKind::LoginSuccess => return self.login_success(signal, &key, at),
            SignalKind::IntoOutfile => {
                return self.event_finding(
                    signal,
                    key,
                    at,
                    RuleId::IntoOutfile,
                    Severity::High,
                    "",
                );
            }
            SignalKind::LoggingDisabled => {
                return self.event_finding(
                    signal,
                    key,
                    at,
                    RuleId::LoggingDisabled,
                    Severity::High,
                    "",
                );
            }
            SignalKind::ScopeGrant => return self.scope_grant(signal, key, at),
            _ => {}
        }
        let others_dump = signal.kind == SignalKind::Dump
            && self
                .state
                .principals
                .iter()
                .any(|(k, p)| *k != key && p.has_job(JobKind::Dump));
        if !self.state.principals.contains_key(&key)
            && self.state.principals.len() >= self.config.max_principals
        {
            self.state.counters.principals_dropped += 1;
            return;
        }
        let mut principal = self
            .state
            .principals
            .remove(&key)
            .unwrap_or_else(|| PrincipalState::new(signal.identity.clone(), at));
        if at.saturating_sub(principal.last_seen) > self.config.dormant_s {
            principal.active_since = at;
        }
        let mut findings = Vec::new();
        match signal.kind {
            SignalKind::Dump => {
                self.dump(signal, &key, &mut principal, others_dump, at, &mut findings)
            }
            SignalKind::BulkOperation => self.bulk(signal, &key, &mut principal, at, &mut findings),
            _ => {}
        }
        if let Some(family) = volume_family(signal.kind) {
            self.volume(
                signal,
                &key,
                &mut principal,
                family,
                started,
                at,
                &mut findings,
            );
        }
        principal.seen_categories = principal.seen_categories.union(signal.categories);
        principal.last_seen = at;
        self.state.principals.insert(key, principal);
        for finding in findings {
            self.raise(finding);
        }
    }

    fn finding(
        signal: &Signal,
        key: PrincipalKey,
        at: i64,
        rule: RuleId,
        severity: Severity,
    ) -> Finding {
        Finding {
            rule,
            severity,
            key,
            identity: signal.identity.clone(),
            started_at: at,
            at,
            signal_id: signal.id,
            records: signal.volume(),
            records_cumulative: false,
            records_method: RecordsMethod::Events,
            categories: signal.categories,
            tables: signal.tables.clone(),
            observed: signal.volume() as f64,
            expected: 0.0,
            context: String::new(),
        }
    }

    fn event_finding(
        &mut self,
        signal: &Signal,
        key: PrincipalKey,
        at: i64,
        rule: RuleId,
        severity: Severity,
        context: &str,
    ) {
        let mut finding = Self::finding(signal, key, at, rule, severity);
        finding.records = signal.count.max(1);
        finding.context = context.to_owned();
        self.raise(finding);
    }

    fn scope_grant(&mut self, signal: &Signal, key: PrincipalKey, at: i64) {
        let mut categories = CategorySet::EMPTY;
        let mut sensitive = Vec::new();
        for scope in &signal.scopes_added {
            let opened = scope_categories(scope);
            if !opened.is_empty() {
                categories = categories.union(opened);
                sensitive.push(scope.as_str());
            }
        }
        if categories.is_empty() {
            return;
        }
        let mut finding = Self::finding(signal, key, at, RuleId::ScopeGrant, Severity::High);
        finding.categories = categories;
        finding.records = 0;
        finding.context = format!("newly granted {}", sensitive.join(", "));
        self.raise(finding);
    }

    fn login_failure(&mut self, signal: &Signal, at: i64) {
        let keys = login_keys(signal);
        if self.state.logins.len() >= MAX_LOGIN_TRAILS {
            let window = self.config.login_window_s;
            self.state
                .logins
                .retain(|_, trail| trail.failures.last().is_some_and(|t| at - t <= window));
        }
        for trail_key in keys {
            if self.state.logins.len() >= MAX_LOGIN_TRAILS {
                break;
            }
            let trail = self.state.logins.entry(trail_key).or_default();
            trail.failures.push(at);
            if trail.failures.len() > 64 {
                trail.failures.remove(0);
            }
        }
    }

    fn login_success(&mut self, signal: &Signal, key: &PrincipalKey, at: i64) {
        let window = self.config.login_window_s;
        let mut failures = 0;
        let mut first = at;
        for trail_key in login_keys(signal) {
            if let Some(trail) = self.state.logins.remove(&trail_key) {
                let recent: Vec<i64> = trail
                    .failures
                    .iter()
                    .copied()
                    .filter(|t| at - t <= window)
                    .collect();
                if recent.len() > failures {
                    failures = recent.len();
                    first = recent.first().copied().unwrap_or(at);
                }
            }
        }
        if failures < self.config.login_failures {
            return;
        }
        let mut finding = Self::finding(
            signal,
            key.clone(),
            at,
            RuleId::LoginBurstThenSuccess,
            Severity::High,
        );
        finding.started_at = first;
        finding.records = 0;
        finding.observed = failures as f64;
        finding.context = signal
            .ip
            .as_deref()
            .map(|ip| format!(", from {ip}"))
            .unwrap_or_default();
        self.raise(finding);
    }

    fn dump(
        &self,
        signal: &Signal,
        key: &PrincipalKey,
        principal: &mut PrincipalState,
        others_dump: bool,
        at: i64,
        findings: &mut Vec<Finding>,
    ) {
        let occurrence = principal.job_mut(JobKind::Dump).observe(at, signal.count);
        if self.learning(at) && matches!(occurrence, Occurrence::Unlearned { .. }) {
            // The first day of watching learns the existing jobs (the nightly backup).
            return;
        }
        let (severity, context) = match occurrence {
            Occurrence::OnSchedule | Occurrence::SameSession { expected: true } => return,
            Occurrence::SameSession { expected: false } => {
                if !self
                    .state
                    .open
                    .contains_key(&(key.clone(), RuleId::UnexpectedDump))
                {
                    return;
                }
                (Severity::Medium, String::new())
            }
            Occurrence::Unlearned { prior: 0 } if others_dump => (
                Severity::High,
                "another account runs the database backups; this one never dumped before"
                    .to_owned(),
            ),
            Occurrence::Unlearned { prior: 0 } => (
                Severity::Medium,
                "the first database dump seen (mark it as the backup job if it is one)".to_owned(),
            ),
            Occurrence::Unlearned { prior } => (
                Severity::Medium,
                format!("{prior} earlier dump(s), no schedule learned yet"),
            ),
            Occurrence::OffSchedule { minutes_off } => (
                Severity::High,
                format!(
                    "{} off the learned backup schedule",
                    duration_text(minutes_off)
                ),
            ),
        };
        let mut finding = Self::finding(signal, key.clone(), at, RuleId::UnexpectedDump, severity);
        finding.records = signal.count;
        finding.records_method = RecordsMethod::Statements;
        finding.context = context;
        findings.push(finding);
    }

    fn bulk(
        &self,
        signal: &Signal,
        key: &PrincipalKey,
        principal: &mut PrincipalState,
        at: i64,
        findings: &mut Vec<Finding>,
    ) {
        if !(signal.categories.contains(Category::Customer)
            || signal.categories.contains(Category::Order))
        {
            return;
        }
        let volume = signal.volume();
        let job = principal.job_mut(JobKind::Bulk);
        let occurrence = job.observe(at, volume);
        let previous_max = job.max_volume;
        if self.learning(at) && matches!(occurrence, Occurrence::Unlearned { .. }) {
            return;
        }
        let context = match occurrence {
            Occurrence::OnSchedule if volume <= previous_max.saturating_mul(3).max(1) => return,
            Occurrence::OnSchedule => format!(
                "on its usual schedule but {}x its largest earlier run",
                volume / previous_max.max(1)
            ),
            Occurrence::SameSession { expected: true } => return,
            Occurrence::SameSession { expected: false } => String::new(),
            Occurrence::Unlearned { prior: 0 } => {
                "the app's first bulk export of this data".to_owned()
            }
            Occurrence::Unlearned { prior } => {
                format!("{prior} earlier run(s), no schedule learned")
            }
            Occurrence::OffSchedule { minutes_off } => {
                format!("{} off its usual schedule", duration_text(minutes_off))
            }
        };
        let severity = if volume >= 1_000 {
            Severity::High
        } else {
            Severity::Medium
        };
        let mut finding =
            Self::finding(signal, key.clone(), at, RuleId::ShopifyBulkExport, severity);
        finding.records_method = RecordsMethod::Records;
        finding.context = context;
        findings.push(finding);
    }

    #[allow(clippy::too_many_arguments)]
    fn volume(
        &self,
        signal: &Signal,
        key: &PrincipalKey,
        principal: &mut PrincipalState,
        family: VolumeFamily,
        started: i64,
        at: i64,
        findings: &mut Vec<Finding>,
    ) {
        let config = &self.config;
        let hour = self.local_hour(at);
        let day = self.local_day(at);
        let rows_known = signal.rows.is_some();
        let volume = signal.volume() as f64;
        let floor = volume_floor(config, family, rows_known);
        let rule = volume_rule(family, key);
        let method = records_method(family, rows_known);
        let tenant_age = at.saturating_sub(started);
        let newcomer = tenant_age >= config.learning_s
            && (principal.first_seen >= started.saturating_add(config.learning_s)
                || principal.active_since > principal.first_seen)
            && at.saturating_sub(principal.active_since) < config.newcomer_s
            && !matches!(key, PrincipalKey::Client(_) | PrincipalKey::Unknown);
        let export_job = if family == VolumeFamily::Export {
            let job = principal.job_mut(JobKind::Export);
            match job.observe(at, signal.volume()) {
                Occurrence::OnSchedule | Occurrence::SameSession { expected: true } => {
                    Some(job.max_volume)
                }
                _ => None,
            }
        } else {
            None
        };
        let active_since = principal.active_since;
        for category in signal.categories.iter() {
            if category == Category::Credentials {
                continue;
            }
            let base = principal.baseline_mut(family, category, hour);
            let hour_volume = base.add(hour, at, volume);
            let drift = base.drift.add(day, volume);
            let categories = CategorySet::of(category);
            let make = |rule: RuleId, severity: Severity, started_at: i64| Finding {
                rule,
                severity,
                key: key.clone(),
                identity: signal.identity.clone(),
                started_at,
                at,
                signal_id: signal.id,
                records: signal.volume(),
                records_cumulative: false,
                records_method: method,
                categories,
                tables: signal.tables.clone(),
                observed: hour_volume,
                expected: 0.0,
                context: String::new(),
            };
            if base.current_flagged {
                if self.state.open.contains_key(&(key.clone(), rule)) {
                    findings.push(make(rule, Severity::Medium, at));
                }
            } else {
                let mature = base.active_hours >= config.min_active_hours
                    && hour - base.first_hour >= config.min_baseline_age_h;
                let expected = base.expected(hour).max(1.0);
                let on_schedule =
                    export_job.is_some_and(|max| hour_volume <= 3.0 * (max as f64).max(expected));
                let never_exported = family == VolumeFamily::Export
                    && base.active_hours == 0
                    && tenant_age >= config.export_learning_s;
                // Pace: a fast start projects the hour far beyond the ratio, so the
                // alert need not wait for the hour to fill up.
                let elapsed_s = (at - base.current_started) as f64;
                let projected = if elapsed_s >= 300.0 {
                    hour_volume * 3_600.0 / elapsed_s
                } else {
                    0.0
                };
                let ratio_hit = hour_volume >= config.volume_ratio * expected
                    || (projected >= 2.0 * config.volume_ratio * expected
                        && hour_volume >= 3.0 * expected);
                let over = hour_volume >= floor
                    && !on_schedule
                    && ((mature && ratio_hit) || never_exported);
                if over {
                    base.flag_current();
                    let ratio = hour_volume / expected;
                    let mut finding = make(
                        rule,
                        volume_severity(ratio, hour_volume, floor),
                        base.current_started,
                    );
                    finding.records = hour_volume as u64;
                    finding.expected = if never_exported && !mature {
                        0.0
                    } else {
                        expected
                    };
                    findings.push(finding);
                }
            }
            if newcomer && category != Category::Credentials {
                let is_db = matches!(key, PrincipalKey::DbAccount(..));
                let needed = match (is_db, rows_known) {
                    (true, true) => config.newcomer_db_rows as f64,
                    (true, false) => 1.0,
                    (false, _) => config.newcomer_volume as f64,
                };
                let open = self
                    .state
                    .open
                    .contains_key(&(key.clone(), RuleId::FirstSeenPrincipal));
                if open || hour_volume >= needed {
                    let mut finding = make(
                        RuleId::FirstSeenPrincipal,
                        if is_db {
                            Severity::High
                        } else {
                            Severity::Medium
                        },
                        active_since,
                    );
                    if !open {
                        finding.records = hour_volume as u64;
                    }
                    finding.started_at = base.current_started.max(active_since);
                    finding.expected = active_since as f64;
                    findings.push(finding);
                }
            }
            let drift_ready = base.drift.days >= config.drift_learned_days
                && drift.days >= config.drift_days
                && drift.cusum >= config.drift_cusum
                && drift.excess >= config.drift_excess_floors * floor;
            if drift_ready {
                let mut finding = make(
                    RuleId::LowAndSlow,
                    Severity::Medium,
                    drift.start_day * 86_400 - config.utc_offset_s,
                );
                finding.records = drift.excess as u64;
                finding.records_cumulative = true;
                finding.observed = drift.usual_daily + drift.excess / f64::from(drift.days.max(1));
                finding.expected = drift.usual_daily;
                finding.context = drift.days.to_string();
                findings.push(finding);
            }
        }
    }

    fn raise(&mut self, finding: Finding) {
        let slot = (finding.key.clone(), finding.rule);
        if let Some(alert) = self.state.open.get_mut(&slot) {
            alert.severity = alert.severity.max(finding.severity);
            alert.last_seen_at = alert.last_seen_at.max(finding.at);
            alert.started_at = alert.started_at.min(finding.started_at);
            if finding.records_cumulative {
                alert.records_estimate = alert.records_estimate.max(finding.records);
                alert.observed = alert.observed.max(finding.observed);
                alert.context = finding.context;
            } else if alert.last_signal == Some(finding.signal_id) {
                // The same signal seen through another of its categories.
                alert.observed = alert.observed.max(finding.observed);
            } else {
                alert.records_estimate = alert.records_estimate.saturating_add(finding.records);
                alert.observed = alert.observed.max(finding.observed);
            }
            alert.categories = alert.categories.union(finding.categories);
            alert.add_tables(&finding.tables);
            alert.add_evidence(finding.signal_id);
            return;
        }
        let at = finding.at;
        if let Some(suppression) = self
            .state
            .suppressions
            .iter_mut()
            .find(|s| s.covers(&finding.key, finding.rule, finding.categories, at))
        {
            suppression.silenced += 1;
            self.state.counters.suppressed_findings += 1;
            return;
        }
        let id = self.state.next_alert_id;
        self.state.next_alert_id += 1;
        self.state.counters.alerts_opened += 1;
        let mut alert = Alert {
            id,
            rule: finding.rule,
            severity: finding.severity,
            principal: finding.identity,
            key: finding.key,
            started_at: finding.started_at.min(at),
            detected_at: at,
            last_seen_at: at,
            records_estimate: finding.records,
            records_method: finding.records_method,
            tables: Default::default(),
            categories: finding.categories,
            evidence: vec![finding.signal_id],
            last_signal: Some(finding.signal_id),
            observed: finding.observed,
            expected: finding.expected,
            context: finding.context,
        };
        alert.add_tables(&finding.tables);
        self.state.open.insert(slot, alert);
    }

    /// Marks an alert as a false positive: adds a suppression of `scope` until `until` and,
    /// when `learn_normal`, teaches the baselines that the alert's volume at that hour (or the
    /// dump's time) is normal. Closes the alert if it is open. Returns the suppression id.
    pub fn mark_false_positive(
        &mut self,
        alert: &Alert,
        scope: SuppressionScope,
        until: i64,
        learn_normal: bool,
    ) -> u64 {
        let id = self
            .state
            .suppressions
            .iter()
            .map(|s| s.id + 1)
            .max()
            .unwrap_or(1);
        self.state.suppressions.push(Suppression {
            id,
            scope,
            from: alert.started_at.min(self.state.clock),
            until,
            from_alert: Some(alert.id),
            silenced: 0,
            revoked: false,
        });
        if let Some(open) = self.state.open.get(&(alert.key.clone(), alert.rule))
            && open.id == alert.id
        {
            self.state.open.remove(&(alert.key.clone(), alert.rule));
        }
        if learn_normal {
            let hour = self.local_hour(alert.started_at);
            if let Some(principal) = self.state.principals.get_mut(&alert.key) {
                for keyed in &mut principal.baselines {
                    if alert.categories.contains(keyed.category) {
                        keyed.baseline.learn_normal(hour, alert.observed);
                        if alert.rule == RuleId::LowAndSlow {
                            keyed.baseline.drift.reset_drift();
                        }
                    }
                }
                if alert.rule == RuleId::UnexpectedDump {
                    let job = principal.job_mut(JobKind::Dump);
                    job.session_starts.push(alert.started_at);
                    job.session_starts.sort_unstable();
                    job.current_expected = true;
                }
            }
        }
        id
    }

    /// Ends the episode of `alert` if it is still open (an analyst resolved it), so later
    /// activity opens a new alert instead of growing a handled one. Returns whether it was open.
    pub fn close_episode(&mut self, alert: &Alert) -> bool {
        let slot = (alert.key.clone(), alert.rule);
        if self
            .state
            .open
            .get(&slot)
            .is_some_and(|open| open.id == alert.id)
        {
            self.state.open.remove(&slot);
            true
        } else {
            false
        }
    }

    /// Revokes a suppression; returns whether it existed and was active.
    pub fn revoke_suppression(&mut self, id: u64) -> bool {
        match self.state.suppressions.iter_mut().find(|s| s.id == id) {
            Some(s) if !s.revoked => {
                s.revoked = true;
                true
            }
            _ => false,
        }
    }
}

fn login_keys(signal: &Signal) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    if let Some(ip) = &signal.ip {
        keys.push(format!("ip:{ip}"));
    }
    if let Some(id) = &signal.identity.admin_user_id {
        keys.push(format!("admin:{id}"));
    } else if let Some(name) = &signal.identity.admin_username {
        keys.push(format!("admin_name:{name}"));
    }
    keys
}

fn duration_text(minutes: i64) -> String {
    if minutes >= 120 {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
}
