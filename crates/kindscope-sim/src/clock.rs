//! Simulated time. `--speed X` makes every simulated delay (pull durations, back-offs, progress
//! deadlines) X times shorter in real time. Timestamps written into objects stay real wall-clock
//! time, because clients compare them with their own clock ("5s ago").

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

/// Converts simulated durations into real ones.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clock {
    speed: f64,
}

/// A speed that is not a finite number above zero.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
#[error("the simulation speed must be a number greater than 0 (got {0}); try --speed 1")]
pub struct InvalidSpeed(pub f64);

/// Longest real delay a timer is ever set to (keeps `Instant` arithmetic far from overflow).
const MAX_REAL: Duration = Duration::from_secs(365 * 24 * 3600);

impl Clock {
    pub fn new(speed: f64) -> Result<Clock, InvalidSpeed> {
        if speed.is_finite() && speed > 0.0 {
            Ok(Clock { speed })
        } else {
            Err(InvalidSpeed(speed))
        }
    }

    /// Real time runs at simulated time (speed 1).
    pub fn real_time() -> Clock {
        Clock { speed: 1.0 }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// How long a simulated delay lasts in real time.
    pub fn real(&self, sim: Duration) -> Duration {
        let secs = sim.as_secs_f64() / self.speed;
        if secs.is_finite() && secs < MAX_REAL.as_secs_f64() {
            Duration::from_secs_f64(secs.max(0.0))
        } else {
            MAX_REAL
        }
    }

    /// How much simulated time a real duration stands for.
    pub fn sim(&self, real: Duration) -> Duration {
        let secs = real.as_secs_f64() * self.speed;
        if secs.is_finite() && secs < MAX_REAL.as_secs_f64() {
            Duration::from_secs_f64(secs.max(0.0))
        } else {
            MAX_REAL
        }
    }

    /// The real instant a simulated delay from now ends at.
    pub fn after(&self, sim: Duration) -> Instant {
        Instant::now() + self.real(sim)
    }
}

/// Wall-clock time as the apiserver writes metadata timestamps (RFC 3339, seconds).
pub fn now_rfc3339() -> String {
    kindscope_core::time::rfc3339(
        jiff::Timestamp::now(),
        kindscope_core::time::Precision::Secs,
    )
}

/// Wall-clock time as a `MicroTime` (`eventTime`), RFC 3339 with microseconds.
pub fn now_micro() -> String {
    kindscope_core::time::rfc3339(
        jiff::Timestamp::now(),
        kindscope_core::time::Precision::Micros,
    )
}

/// A duration printed like Go's `time.Duration.String()` after `Truncate(time.Millisecond)`,
/// which is how the kubelet words pull times (`1.234s`, `850ms`, `2m3.5s`).
pub struct GoDuration(pub Duration);

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        if ms < 1000 {
            return write!(f, "{ms}ms");
        }
        let total_secs = ms / 1000;
        let frac = ms % 1000;
        let (h, m, s) = (total_secs / 3600, (total_secs / 60) % 60, total_secs % 60);
        if h > 0 {
            write!(f, "{h}h{m}m")?;
        } else if m > 0 {
            write!(f, "{m}m")?;
        }
        if frac == 0 {
            write!(f, "{s}s")
        } else {
            let frac = format!("{frac:03}");
            write!(f, "{s}.{}s", frac.trim_end_matches('0'))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_compresses_delays_and_rejects_nonsense() {
        let c = Clock::new(10.0).expect("valid");
        assert_eq!(c.real(Duration::from_secs(10)), Duration::from_secs(1));
        assert_eq!(c.sim(Duration::from_secs(1)), Duration::from_secs(10));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Clock::new(bad).is_err(), "{bad}");
        }
        let tiny = Clock::new(1e-300).expect("valid");
        assert_eq!(tiny.real(Duration::from_secs(1)), MAX_REAL);
    }

    #[test]
    fn go_duration_format() {
        let d = |ms| GoDuration(Duration::from_millis(ms)).to_string();
        assert_eq!(d(850), "850ms");
        assert_eq!(d(1234), "1.234s");
        assert_eq!(d(2000), "2s");
        assert_eq!(d(123_500), "2m3.5s");
        assert_eq!(d(3_600_000), "1h0m0s");
        assert_eq!(d(0), "0s");
    }
}
