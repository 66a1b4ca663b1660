//! Per principal × category volume baselines.
//!
//! Owns the streaming statistics: a log-coded, slowly forgetting maximum per hour of week and
//! per hour of day (seasonality), a decayed half-octave histogram of active-hour volumes (a
//! robust "usual hour" quantile), and a daily CUSUM of log volume against a frozen level for
//! low-and-slow drift. Hours that alerted do not update the model (skip-model-update), so
//! an attack does not teach itself. No clock: callers pass hour and day indices.

use serde::{Deserialize, Serialize};

/// Hours in a week.
pub const HOURS_PER_WEEK: usize = 168;
const HISTOGRAM_BUCKETS: usize = 40;
/// Forgetting of the histogram per closed active hour.
const HISTOGRAM_DECAY: f32 = 0.995;

/// Encodes a volume on a quarter-octave log scale (0..=255).
pub fn encode(volume: f64) -> u8 {
    let code = (4.0 * (1.0 + volume.max(0.0)).log2()).round();
    if code.is_nan() {
        0
    } else {
        code.clamp(0.0, 255.0) as u8
    }
}

/// Decodes [`encode`] (≈ ±9%).
pub fn decode(code: u8) -> f64 {
    (f64::from(code) / 4.0).exp2() - 1.0
}

/// Volume per hour of one principal in one category (or of one export kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VolumeBaseline {
    /// Log-coded forgetting maximum per hour of week (168 entries).
    hour_of_week: Vec<u8>,
    /// Log-coded forgetting maximum per hour of day (24 entries).
    hour_of_day: Vec<u8>,
    /// Decayed counts of active-hour volumes in half-octave buckets.
    histogram: Vec<f32>,
    /// Active hours folded into the model.
    pub active_hours: u32,
    /// First hour seen (hours since the epoch, local time).
    pub first_hour: i64,
    /// The hour being accumulated.
    pub current_hour: i64,
    /// Volume of the current hour so far.
    pub current_volume: f64,
    /// First signal time of the current hour (unix seconds).
    pub current_started: i64,
    /// The current hour alerted; it will not update the model.
    pub current_flagged: bool,
    /// Low-and-slow drift state.
    pub drift: DriftTracker,
}

impl VolumeBaseline {
    /// A baseline starting at `hour`.
    pub fn new(hour: i64) -> Self {
        VolumeBaseline {
            hour_of_week: vec![0; HOURS_PER_WEEK],
            hour_of_day: vec![0; 24],
            histogram: vec![0.0; HISTOGRAM_BUCKETS],
            active_hours: 0,
            first_hour: hour,
            current_hour: hour,
            current_volume: 0.0,
            current_started: hour * 3600,
            current_flagged: false,
            drift: DriftTracker::default(),
        }
    }

    /// Adds `volume` at `hour` (local hours since the epoch), closing the previous hour when
    /// the hour changed. Returns the volume of the current hour after the addition.
    pub fn add(&mut self, hour: i64, at: i64, volume: f64) -> f64 {
        // An older hour (late data) is folded into the current one.
        if hour > self.current_hour {
            self.close_current();
            self.current_hour = hour;
            self.current_volume = 0.0;
            self.current_flagged = false;
            self.current_started = at;
        }
        if self.current_volume <= 0.0 {
            self.current_started = at;
        }
        if volume.is_finite() && volume > 0.0 {
            self.current_volume += volume;
        }
        self.current_volume
    }

    fn close_current(&mut self) {
        let volume = self.current_volume;
        if volume <= 0.0 || self.current_flagged {
            return;
        }
        let code = encode(volume);
        let week_slot = self.current_hour.rem_euclid(HOURS_PER_WEEK as i64) as usize;
        let day_slot = self.current_hour.rem_euclid(24) as usize;
        if let Some(slot) = self.hour_of_week.get_mut(week_slot) {
            *slot = slot.saturating_sub(1).max(code);
        }
        if let Some(slot) = self.hour_of_day.get_mut(day_slot) {
            // Forgets faster than the weekly slot: it is touched every day.
            *slot = slot.saturating_sub(1).max(code.saturating_sub(2));
        }
        for count in &mut self.histogram {
            *count *= HISTOGRAM_DECAY;
        }
        let bucket = ((2.0 * (1.0 + volume).log2()) as usize).min(HISTOGRAM_BUCKETS - 1);
        if let Some(count) = self.histogram.get_mut(bucket) {
            *count += 1.0;
        }
        self.active_hours = self.active_hours.saturating_add(1);
    }

    /// The `q` quantile (0..1) of active-hour volumes (upper edge of its bucket).
    pub fn quantile(&self, q: f64) -> f64 {
        let total: f32 = self.histogram.iter().sum();
        if total <= 0.0 {
            return 0.0;
        }
        let target = total * q.clamp(0.0, 1.0) as f32;
        let mut seen = 0.0;
        for (bucket, count) in self.histogram.iter().enumerate() {
            seen += count;
            if seen >= target {
                return ((bucket as f64 + 1.0) / 2.0).exp2() - 1.0;
            }
        }
        0.0
    }

    /// The usual volume for `hour`: the larger of the seasonal maxima for that hour of
    /// week and hour of day, and the typical (75th percentile) active hour.
    pub fn expected(&self, hour: i64) -> f64 {
        let week = self
            .hour_of_week
            .get(hour.rem_euclid(HOURS_PER_WEEK as i64) as usize)
            .copied()
            .unwrap_or(0);
        let day = self
            .hour_of_day
            .get(hour.rem_euclid(24) as usize)
            .copied()
            .unwrap_or(0);
        decode(week.max(day)).max(self.quantile(0.75))
    }

    /// Marks the current hour as alerting (it will not be learned).
    pub fn flag_current(&mut self) {
        self.current_flagged = true;
    }

    /// Learns `volume` as normal for `hour` (an analyst's "this is normal").
    pub fn learn_normal(&mut self, hour: i64, volume: f64) {
        let code = encode(volume);
        if let Some(slot) = self
            .hour_of_week
            .get_mut(hour.rem_euclid(HOURS_PER_WEEK as i64) as usize)
        {
            *slot = (*slot).max(code);
        }
        if let Some(slot) = self.hour_of_day.get_mut(hour.rem_euclid(24) as usize) {
            *slot = (*slot).max(code);
        }
        self.current_flagged = false;
    }

    /// Approximate bytes held.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + HOURS_PER_WEEK + 24 + HISTOGRAM_BUCKETS * 4
    }
}

/// Daily cumulative drift of log volume against a frozen level (upper CUSUM).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriftTracker {
    /// The day being accumulated (local days since the epoch).
    pub current_day: i64,
    /// Volume of the current day so far.
    pub day_volume: f64,
    /// EWMA of ln(1 + daily volume) over normal active days.
    pub level: f32,
    /// EWMA of the absolute deviation of ln daily volume.
    pub spread: f32,
    /// Active days learned.
    pub days: u16,
    /// CUSUM over closed days.
    pub cusum: f32,
    /// Consecutive days the CUSUM has been above zero.
    pub drift_days: u16,
    /// Volume above the level accumulated during the drift.
    pub drift_excess: f64,
    /// First day of the drift.
    pub drift_start: i64,
}

/// Allowance per day in ln units (a day must be 1.5× the level to add to the CUSUM).
const DRIFT_ALLOWANCE: f32 = 0.405;
const LEVEL_ALPHA: f32 = 0.1;

/// What the drift tracker says about the current day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftReading {
    /// CUSUM including the partial current day.
    pub cusum: f32,
    /// Days in the drift including the current day.
    pub days: u16,
    /// Volume above the level since the drift began, including today.
    pub excess: f64,
    /// The learned daily volume.
    pub usual_daily: f64,
    /// First day of the drift.
    pub start_day: i64,
}

impl DriftTracker {
    /// Adds `volume` on `day`; returns the reading including the partial day.
    pub fn add(&mut self, day: i64, volume: f64) -> DriftReading {
        if day > self.current_day {
            self.close_day();
            // Idle days reset nothing: the drift is over active days.
            self.current_day = day;
            self.day_volume = 0.0;
        }
        if volume.is_finite() && volume > 0.0 {
            self.day_volume += volume;
        }
        self.reading()
    }

    fn usual(&self) -> f64 {
        f64::from(self.level).exp() - 1.0
    }

    fn allowance(&self) -> f32 {
        DRIFT_ALLOWANCE.max(self.spread * 1.5)
    }

    /// The reading for the current partial day.
    pub fn reading(&self) -> DriftReading {
        let today = (1.0 + self.day_volume).ln() as f32;
        let step = (today - self.level - self.allowance()).max(0.0);
        let excess_today = (self.day_volume - self.usual()).max(0.0);
        DriftReading {
            cusum: self.cusum + step,
            days: self.drift_days + u16::from(step > 0.0),
            excess: self.drift_excess + excess_today,
            usual_daily: self.usual(),
            start_day: if self.drift_days > 0 {
                self.drift_start
            } else {
                self.current_day
            },
        }
    }

    fn close_day(&mut self) {
        if self.day_volume <= 0.0 {
            return;
        }
        let value = (1.0 + self.day_volume).ln() as f32;
        if self.days < 3 {
            // Cold start: average the first days plainly.
            let n = f32::from(self.days);
            self.level = (self.level * n + value) / (n + 1.0);
            if n > 0.0 {
                self.spread = (self.spread * n + (value - self.level).abs()) / (n + 1.0);
            }
            self.days += 1;
            return;
        }
        let step = value - self.level - self.allowance();
        if step > 0.0 {
            if self.drift_days == 0 {
                self.drift_start = self.current_day;
                self.drift_excess = 0.0;
            }
            self.cusum += step;
            self.drift_days = self.drift_days.saturating_add(1);
            self.drift_excess += (self.day_volume - self.usual()).max(0.0);
        } else {
            self.cusum = (self.cusum + step).max(0.0);
            if self.cusum <= 0.0 {
                self.drift_days = 0;
                self.drift_excess = 0.0;
            }
            // Only normal days move the level (skip-model-update during a drift).
            if self.drift_days == 0 {
                let deviation = (value - self.level).abs();
                self.level += LEVEL_ALPHA * (value - self.level);
                self.spread += LEVEL_ALPHA * (deviation - self.spread);
                self.days = self.days.saturating_add(1);
            }
        }
    }

    /// Forgets the drift (after an alert was raised or marked benign).
    pub fn reset_drift(&mut self) {
        self.cusum = 0.0;
        self.drift_days = 0;
        self.drift_excess = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_within_ten_percent() {
        for volume in [1.0, 10.0, 480.0, 48_213.0, 3.0e9] {
            let back = decode(encode(volume));
            assert!((back - volume).abs() / volume < 0.1, "{volume} -> {back}");
        }
        assert_eq!(encode(f64::NAN), 0);
        assert_eq!(encode(-5.0), 0);
    }

    #[test]
    fn a_nightly_job_hour_is_expected_but_other_night_hours_are_not() {
        let mut baseline = VolumeBaseline::new(0);
        for day in 0..14 {
            for hour in 9..17 {
                baseline.add(day * 24 + hour, 0, 1_000.0);
            }
            baseline.add(day * 24 + 3 + 24, 0, 50_000.0);
        }
        baseline.add(15 * 24, 0, 1.0);
        assert!(baseline.expected(16 * 24 + 3) > 30_000.0);
        let night = baseline.expected(16 * 24 + 1);
        assert!(night > 500.0 && night < 5_000.0, "{night}");
        assert!(baseline.active_hours > 100);
    }

    #[test]
    fn a_flagged_hour_does_not_teach_the_model() {
        let mut baseline = VolumeBaseline::new(0);
        for day in 0..10 {
            baseline.add(day * 24 + 10, 0, 100.0);
        }
        baseline.add(11 * 24 + 2, 0, 1_000_000.0);
        baseline.flag_current();
        baseline.add(12 * 24 + 10, 0, 100.0);
        assert!(baseline.expected(13 * 24 + 2) < 1_000.0);
    }

    #[test]
    fn a_sustained_daily_increase_accumulates_drift_and_noise_does_not() {
        let mut drift = DriftTracker::default();
        for day in 0..20 {
            let noise = if day % 2 == 0 { 800.0 } else { 1_200.0 };
            drift.add(day, noise);
        }
        assert_eq!(drift.add(20, 1.0).days, 0);
        let mut reading = drift.reading();
        for day in 21..26 {
            drift.add(day, 1.0);
            reading = drift.add(day, 3_500.0);
        }
        assert!(reading.days >= 4, "{reading:?}");
        assert!(reading.cusum > 2.0, "{reading:?}");
        assert!(reading.excess > 8_000.0, "{reading:?}");
    }
}
