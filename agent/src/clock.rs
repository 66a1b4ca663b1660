//! Time sources. Every timer uses [`Clock::mono`]; wall time is metadata only, so a clock
//! jump cannot stall or rush a flush, a back-off or a grace period.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of monotonic and wall time.
pub trait Clock: Send + Sync {
    /// Time since an arbitrary fixed point; never goes backwards.
    fn mono(&self) -> Duration;
    /// Unix seconds of the wall clock (may jump).
    fn wall_unix(&self) -> i64;
}

/// The real clocks.
pub struct SystemClock {
    start: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl Clock for SystemClock {
    fn mono(&self) -> Duration {
        self.start.elapsed()
    }

    fn wall_unix(&self) -> i64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
    }
}
