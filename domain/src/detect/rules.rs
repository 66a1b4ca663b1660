//! Rule thresholds and the findings rules produce.
//!
//! Owns the tunable numbers (ratios, floors, windows) with their reasons, the `Finding`
//! a rule hands to the episode logic, and the choice of rule for a volume family and
//! principal kind. It must not keep state; the engine does.

use serde::{Deserialize, Serialize};

use super::alert::{RecordsMethod, RuleId, Severity};
use super::signal::{CategorySet, Identity, PrincipalKey, SignalKind};
use super::state::VolumeFamily;

/// Thresholds of the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleConfig {
    /// Store time zone offset from UTC in seconds (hour-of-week slots are local).
    pub utc_offset_s: i64,
    /// An hour must reach this multiple of the usual hour to be mass extraction.
    pub volume_ratio: f64,
    /// Smallest hour volume worth an alert when rows are known.
    pub floor_rows: u64,
    /// Smallest hour volume worth an alert when only statements are counted.
    pub floor_statements: u64,
    /// Smallest exported or returned records worth an alert.
    pub floor_records: u64,
    /// Smallest number of viewed records worth an alert.
    pub floor_views: u64,
    /// Active hours a baseline needs before it judges.
    pub min_active_hours: u32,
    /// Hours between a baseline's first hour and its first judgement.
    pub min_baseline_age_h: i64,
    /// Time the tenant is watched before principals count as newcomers.
    pub learning_s: i64,
    /// Time the tenant is watched before a first export of a category alerts.
    pub export_learning_s: i64,
    /// Idle time after which a principal counts as new again.
    pub dormant_s: i64,
    /// Time a newcomer stays a newcomer.
    pub newcomer_s: i64,
    /// Rows a newcomer database account must read to alert (statements: any).
    pub newcomer_db_rows: u64,
    /// Rows or statements another newcomer must read in an hour to alert.
    pub newcomer_volume: u64,
    /// Failed logins within the window that make a following success suspicious.
    pub login_failures: usize,
    /// The window for failed logins.
    pub login_window_s: i64,
    /// CUSUM (ln units) at which a drift alerts.
    pub drift_cusum: f32,
    /// Active days above the allowance before a drift alerts.
    pub drift_days: u16,
    /// Learned days a drift baseline needs.
    pub drift_learned_days: u16,
    /// Volume above the usual level a drift must have accumulated (× floor).
    pub drift_excess_floors: f64,
    /// Principals modeled at most (the rest are counted as dropped).
    pub max_principals: usize,
}

impl Default for RuleConfig {
    fn default() -> Self {
        RuleConfig {
            utc_offset_s: 0,
            volume_ratio: 10.0,
            floor_rows: 1_000,
            floor_statements: 100,
            floor_records: 500,
            floor_views: 200,
            min_active_hours: 8,
            min_baseline_age_h: 48,
            learning_s: 86_400,
            export_learning_s: 7 * 86_400,
            dormant_s: 30 * 86_400,
            newcomer_s: 7 * 86_400,
            newcomer_db_rows: 200,
            newcomer_volume: 300,
            login_failures: 5,
            login_window_s: 1_800,
            drift_cusum: 1.5,
            drift_days: 3,
            drift_learned_days: 7,
            drift_excess_floors: 2.0,
            max_principals: 200_000,
        }
    }
}

/// What a rule found, before episode grouping.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule.
    pub rule: RuleId,
    /// Severity of this finding.
    pub severity: Severity,
    /// Who.
    pub key: PrincipalKey,
    /// Who, as named.
    pub identity: Identity,
    /// When the triggering activity began.
    pub started_at: i64,
    /// The signal time.
    pub at: i64,
    /// The signal id.
    pub signal_id: u64,
    /// Records to add to (or, for cumulative rules, to set on) the episode.
    pub records: u64,
    /// Whether `records` is a running total rather than an increment.
    pub records_cumulative: bool,
    /// What records count.
    pub records_method: RecordsMethod,
    /// Categories.
    pub categories: CategorySet,
    /// Tables.
    pub tables: Vec<String>,
    /// Observed number.
    pub observed: f64,
    /// Baseline number.
    pub expected: f64,
    /// Context for the explanation.
    pub context: String,
}

/// The volume family a signal kind feeds.
pub fn volume_family(kind: SignalKind) -> Option<VolumeFamily> {
    match kind {
        SignalKind::SqlAccess => Some(VolumeFamily::Sql),
        SignalKind::Export => Some(VolumeFamily::Export),
        SignalKind::RecordView => Some(VolumeFamily::View),
        SignalKind::ApiRead => Some(VolumeFamily::Api),
        _ => None,
    }
}

/// The rule a volume anomaly of `family` by `key` is reported under.
pub fn volume_rule(family: VolumeFamily, key: &PrincipalKey) -> RuleId {
    match (family, key) {
        (VolumeFamily::Export, _) => RuleId::ExportBeyondBaseline,
        (VolumeFamily::Sql | VolumeFamily::Api, PrincipalKey::Integration(_))
        | (VolumeFamily::Api, PrincipalKey::Client(_)) => RuleId::IntegrationRestVolume,
        _ => RuleId::MassExtraction,
    }
}

/// The smallest volume of `family` worth an alert.
pub fn volume_floor(config: &RuleConfig, family: VolumeFamily, rows_known: bool) -> f64 {
    let floor = match family {
        VolumeFamily::Sql if rows_known => config.floor_rows,
        VolumeFamily::Sql => config.floor_statements,
        VolumeFamily::Export | VolumeFamily::Api => config.floor_records,
        VolumeFamily::View => config.floor_views,
    };
    floor as f64
}

/// What the volume of a signal counts.
pub fn records_method(family: VolumeFamily, rows_known: bool) -> RecordsMethod {
    match family {
        VolumeFamily::Sql if rows_known => RecordsMethod::RowsSent,
        VolumeFamily::Sql => RecordsMethod::Statements,
        VolumeFamily::Api if !rows_known => RecordsMethod::Requests,
        _ => RecordsMethod::Records,
    }
}

/// Severity of a volume anomaly.
pub fn volume_severity(ratio: f64, volume: f64, floor: f64) -> Severity {
    if ratio >= 50.0 || volume >= 20.0 * floor {
        Severity::High
    } else {
        Severity::Medium
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integration_sql_volume_is_reported_as_rest_volume() {
        let integration = PrincipalKey::Integration("3".into());
        let admin = PrincipalKey::Admin("7".into());
        assert_eq!(
            volume_rule(VolumeFamily::Sql, &integration),
            RuleId::IntegrationRestVolume
        );
        assert_eq!(
            volume_rule(VolumeFamily::Sql, &admin),
            RuleId::MassExtraction
        );
        assert_eq!(
            volume_rule(VolumeFamily::Export, &admin),
            RuleId::ExportBeyondBaseline
        );
    }

    #[test]
    fn severity_rises_with_the_ratio() {
        assert_eq!(volume_severity(12.0, 2_000.0, 1_000.0), Severity::Medium);
        assert_eq!(volume_severity(60.0, 2_000.0, 1_000.0), Severity::High);
    }
}
