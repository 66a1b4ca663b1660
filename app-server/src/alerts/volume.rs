//! An alert's volume per hour against its principal's usual band, for the console's chart.
//!
//! The volume is the alert's evidence (rows or records when known, else the count) summed
//! per hour, from the first to the last evidence hour (at most a week, the latest hours
//! kept). The band comes from the stored engine state: for the principal's baselines in the
//! alert's categories, the ceiling is the largest usual volume for that hour of week
//! (`VolumeBaseline::expected`) and the floor the largest median active hour, never above
//! the ceiling. No baseline (a newcomer, or state purged) gives a band of 0.

use leakguard_domain::detect::state::KeyedBaseline;
use leakguard_domain::detect::{CategorySet, EngineState};
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
    let baselines = state
        .as_ref()
        .and_then(|s| s.principals.get(&alert.key))
        .map(|p| p.baselines.as_slice())
        .unwrap_or_default();
    Ok(hours(first, &volumes, baselines, alert.categories, offset))
}

/// The hours from `first` with their volumes and the band of the baselines in `categories`.
fn hours(
    first: i64,
    volumes: &[f64],
    baselines: &[KeyedBaseline],
    categories: CategorySet,
    offset: i64,
) -> Vec<HourVolume> {
    volumes
        .iter()
        .enumerate()
        .map(|(i, volume)| {
            let hour = first + i as i64;
            let (mut low, mut high) = (0.0_f64, 0.0_f64);
            for keyed in baselines {
                if categories.contains(keyed.category) {
                    high = high.max(keyed.baseline.expected(hour));
                    low = low.max(keyed.baseline.quantile(0.5));
                }
            }
            HourVolume {
                at: (hour * 3600 - offset) * 1000,
                volume: *volume,
                usual_low: low.min(high),
                usual_high: high,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use leakguard_domain::detect::Category;
    use leakguard_domain::detect::baseline::VolumeBaseline;
    use leakguard_domain::detect::state::VolumeFamily;

    #[test]
    fn the_band_comes_from_the_baselines_of_the_alert_categories() {
        // Two weeks of 100 rows at 09:00 for customers, 5000 for orders.
        let start = 20_000 * 24;
        let learned = |volume: f64| {
            let mut b = VolumeBaseline::new(start);
            for day in 0..14 {
                let hour = start + day * 24 + 9;
                b.add(hour, hour * 3600, volume);
            }
            b.add(start + 15 * 24, (start + 15 * 24) * 3600, 1.0);
            b
        };
        let baselines = vec![
            KeyedBaseline {
                family: VolumeFamily::Sql,
                category: Category::Customer,
                baseline: learned(100.0),
            },
            KeyedBaseline {
                family: VolumeFamily::Sql,
                category: Category::Order,
                baseline: learned(5000.0),
            },
        ];
        let nine = start + 16 * 24 + 9;
        let got = hours(
            nine,
            &[400.0, 0.0],
            &baselines,
            CategorySet::of(Category::Customer),
            0,
        );
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].at, nine * 3_600_000);
        assert_eq!(got[0].volume, 400.0);
        assert!((80.0..=130.0).contains(&got[0].usual_high), "{:?}", got[0]);
        assert!(got[0].usual_low > 0.0 && got[0].usual_low <= got[0].usual_high);
        assert_eq!(got[1].volume, 0.0);
        let none = hours(nine, &[1.0], &[], CategorySet::of(Category::Customer), 0);
        assert_eq!((none[0].usual_low, none[0].usual_high), (0.0, 0.0));
    }
}
