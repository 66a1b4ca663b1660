//! Recurring-job recognition (nightly backups, weekly exports).
//!
//! Owns the occurrence history of one (principal, job kind) and the test whether a new
//! occurrence falls on the learned schedule: phases on a day or a week, concentrated
//! (mean resultant length R ≥ 0.9), matched within a tolerance derived from their scatter.
//! Occurrences closer than [`SESSION_GAP_S`] form one session (a dump of 300 tables is one
//! backup run).

use serde::{Deserialize, Serialize};

/// Events closer than this belong to one session.
pub const SESSION_GAP_S: i64 = 3600;
/// Sessions kept.
const KEPT_SESSIONS: usize = 16;
const DAY_S: f64 = 86_400.0;
const WEEK_S: f64 = 7.0 * DAY_S;

/// Sessions of one job kind by one principal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JobHistory {
    /// Start times of the last sessions (unix seconds), oldest first.
    pub session_starts: Vec<i64>,
    /// Time of the last event of the current session.
    pub last_event: i64,
    /// Whether the current session was on schedule.
    pub current_expected: bool,
    /// Whether the current session is learned from (on schedule, or no schedule yet).
    #[serde(default)]
    pub current_learned: bool,
    /// Largest volume of a session on schedule.
    pub max_volume: u64,
    /// Volume of the current session.
    pub current_volume: u64,
}

/// What the schedule says about an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occurrence {
    /// A new session at the learned time.
    OnSchedule,
    /// A new session, but no schedule is learned yet (`prior` earlier sessions).
    Unlearned {
        /// Earlier sessions.
        prior: usize,
    },
    /// A new session off the learned schedule.
    OffSchedule {
        /// Minutes away from the learned time.
        minutes_off: i64,
    },
    /// A later event of the current session.
    SameSession {
        /// Whether the session was on schedule.
        expected: bool,
    },
}

struct Phase {
    mean: f64,
    resultant: f64,
}

fn phase(times: &[i64], period: f64) -> Option<Phase> {
    if times.is_empty() {
        return None;
    }
    let (mut sum_sin, mut sum_cos) = (0.0_f64, 0.0_f64);
    for &t in times {
        let angle = std::f64::consts::TAU * (t as f64).rem_euclid(period) / period;
        sum_sin += angle.sin();
        sum_cos += angle.cos();
    }
    let n = times.len() as f64;
    let resultant = (sum_sin * sum_sin + sum_cos * sum_cos).sqrt() / n;
    Some(Phase {
        mean: sum_sin.atan2(sum_cos).rem_euclid(std::f64::consts::TAU),
        resultant,
    })
}

/// Seconds between `at`'s phase and the mean phase on `period`.
fn phase_distance(at: i64, mean: f64, period: f64) -> f64 {
    let angle = std::f64::consts::TAU * (at as f64).rem_euclid(period) / period;
    let mut diff = (angle - mean).abs();
    if diff > std::f64::consts::PI {
        diff = std::f64::consts::TAU - diff;
    }
    diff / std::f64::consts::TAU * period
}

impl JobHistory {
    /// Records an event at `at` with `volume`, and says whether it is on schedule.
    pub fn observe(&mut self, at: i64, volume: u64) -> Occurrence {
        if !self.session_starts.is_empty() && at - self.last_event < SESSION_GAP_S && at >= 0 {
            self.last_event = self.last_event.max(at);
            self.current_volume = self.current_volume.saturating_add(volume);
            return Occurrence::SameSession {
                expected: self.current_expected,
            };
        }
        let verdict = self.judge(at);
        if self.current_learned {
            self.max_volume = self.max_volume.max(self.current_volume);
        }
        self.current_expected = verdict == Occurrence::OnSchedule;
        self.current_learned = matches!(
            verdict,
            Occurrence::OnSchedule | Occurrence::Unlearned { .. }
        );
        self.current_volume = volume;
        self.last_event = at;
        if matches!(
            verdict,
            Occurrence::OnSchedule | Occurrence::Unlearned { .. }
        ) {
            self.session_starts.push(at);
            if self.session_starts.len() > KEPT_SESSIONS {
                self.session_starts.remove(0);
            }
        }
        verdict
    }

    fn judge(&self, at: i64) -> Occurrence {
        let prior = &self.session_starts;
        if prior.is_empty() {
            return Occurrence::Unlearned { prior: 0 };
        }
        let mut best_off = f64::MAX;
        for period in [DAY_S, WEEK_S] {
            // Weekly needs sessions spread over more than a week.
            if period == WEEK_S
                && prior.last().copied().unwrap_or(0) - prior.first().copied().unwrap_or(0)
                    < 6 * 86_400
            {
                continue;
            }
            let Some(phase) = phase(prior, period) else {
                continue;
            };
            let off = phase_distance(at, phase.mean, period);
            let n = prior.len();
            let scatter_s = if phase.resultant < 1.0 {
                (-2.0 * phase.resultant.max(1e-9).ln()).sqrt() / std::f64::consts::TAU * period
            } else {
                0.0
            };
            let tolerance = if n < 3 {
                2_700.0
            } else {
                (3.0 * scatter_s).clamp(1_200.0, 7_200.0)
            };
            if phase.resultant >= 0.9 && off <= tolerance {
                return Occurrence::OnSchedule;
            }
            best_off = best_off.min(off);
        }
        if prior.len() < 2 {
            return Occurrence::Unlearned { prior: prior.len() };
        }
        Occurrence::OffSchedule {
            minutes_off: (best_off / 60.0).round() as i64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NIGHT: i64 = 2 * 3600;

    #[test]
    fn a_nightly_backup_is_learned_and_an_afternoon_dump_is_off_schedule() {
        let mut history = JobHistory::default();
        assert_eq!(
            history.observe(NIGHT, 10),
            Occurrence::Unlearned { prior: 0 }
        );
        assert_eq!(
            history.observe(NIGHT + 600, 10),
            Occurrence::SameSession { expected: false }
        );
        for day in 1..6 {
            let jitter = (day % 3) * 300;
            assert_eq!(
                history.observe(day * 86_400 + NIGHT + jitter, 10),
                Occurrence::OnSchedule,
                "night {day}"
            );
        }
        assert!(matches!(
            history.observe(6 * 86_400 + 14 * 3600, 10),
            Occurrence::OffSchedule { minutes_off } if minutes_off > 600
        ));
        assert_eq!(
            history.observe(7 * 86_400 + NIGHT, 10),
            Occurrence::OnSchedule
        );
    }

    #[test]
    fn a_weekly_job_is_learned_on_the_week() {
        let mut history = JobHistory::default();
        for week in 0..4 {
            history.observe(week * 7 * 86_400 + 10 * 3600, 1);
        }
        assert_eq!(
            history.observe(4 * 7 * 86_400 + 10 * 3600 + 900, 1),
            Occurrence::OnSchedule
        );
    }
}
