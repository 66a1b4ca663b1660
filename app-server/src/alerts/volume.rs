//! An alert's volume per hour against its principal's usual band, for the console's chart.
//!
//! The volume is the alert's evidence (rows or records when known, else the count) summed
//! per hour, from the first to the last evidence hour (at most a week, the latest hours
//! kept). The band comes from the stored engine state: for the principal's baselines in the
//! alert's categories, the ceiling is the largest usual volume for that hour of week
//! (`VolumeBaseline::expected`) and the floor the largest median active hour, never above
//! the ceiling. No baseline (a newcomer, or state purged) gives a band of 0.

use leakguard_domain::detect::EngineState;
use sea_orm::{ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::detect::{Evidence, rule_config};
use super::{AlertError, find};
use crate::db::entities::detection_states;
use crate::tenancy::TenantCtx;

/// Most hours returned.
pub const MAX_HOURS: i64 = 168;

/// One hour of an alert's volume.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HourVolume {
    /// Start of the hour (Unix ms, UTC).
    pub at: i64,
    /// Volume counted in the alert's evidence in that hour.
    pub volume: f64,
    /// Floor of the principal's usual band for that hour.
    pub usual_low: f64,
    /// Ceiling of the principal's usual band for that hour.
    pub usual_high: f64,
}

/// The alert's hours, oldest first; another tenant's alert is `NotFound`.
pub async fn alert_volume<C: ConnectionTrait>(
    db: &C,
    ctx: &TenantCtx,
    id: Uuid,
) -> Result<Vec<HourVolume>, AlertError> {
    let row = find(db, ctx, id).await?;
    let alert: leakguard_domain::detect::Alert = serde_json::from_str(&row.engine)?;
    let evidence: Vec<Evidence> = serde_json::from_str(&row.evidence)?;
    let offset = rule_config().utc_offset_s;
    let hour_of = |at_ms: i64| (at_ms.div_euclid(1000) + offset).div_euclid(3600);
    let Some(last) = evidence.iter().map(|e| hour_of(e.at)).max() else {
        return Ok(Vec::new());
    };
    let first = evidence
        .iter()
        .map(|e| hour_of(e.at))
        .min()
        .unwrap_or(last)
        .max(last - MAX_HOURS + 1);
    let mut volumes = vec![0.0_f64; usize::try_from(last - first + 1).unwrap_or(0)];
    for e in &evidence {
        let slot = usize::try_from(hour_of(e.at) - first).ok();
        if let Some(v) = slot.and_then(|s| volumes.get_mut(s)) {
            *v += e.rows.unwrap_or(e.count) as f64;
        }
    }
    let state = detection_states::Entity::find_by_id(ctx.tenant_id().as_uuid())
        .one(db)
        .await?
        .and_then(|s| serde_json::from_str::<EngineState>(&s.engine).ok());
    let principal = state.as_ref().and_then(|s| s.principals.get(&alert.key));
    Ok(volumes
        .into_iter()
        .enumerate()
        .map(|(i, volume)| {
            let hour = first + i as i64;
            let (mut low, mut high) = (0.0_f64, 0.0_f64);
            for keyed in principal.iter().flat_map(|p| p.baselines.iter()) {
                if alert.categories.contains(keyed.category) {
                    high = high.max(keyed.baseline.expected(hour));
                    low = low.max(keyed.baseline.quantile(0.5));
                }
            }
            HourVolume {
                at: (hour * 3600 - offset) * 1000,
                volume,
                usual_low: low.min(high),
                usual_high: high,
            }
        })
        .collect())
}
