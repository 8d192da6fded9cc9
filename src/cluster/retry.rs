//! When a watcher tries again after an error. Pure: the caller sleeps.
//!
//! kube's default back-off (0.8 s doubling to 30 s, reset only after 120 s without errors)
//! is kind to a struggling apiserver of a big cluster, but after a two-minute outage of a
//! local Kind cluster it left every resource up to 30 s behind (and after a `410 Gone` it
//! waited a whole back-off before the relist that the 410 asks for). A kept-alive Kind cluster
//! on the user's machine has a handful of watchers: retrying every 2 s at most is cheap, and it
//! bounds how long the dashboard stays stale once the server answers again.
//!
//! * `410 Gone`/`Expired`: relist at once, after a jitter of up to [`GONE_JITTER`] so that the
//!   five watchers do not relist in the same instant;
//! * other errors: [`FIRST`] doubling to [`MAX`], each ±20%;
//! * any success resets the back-off.

use std::time::Duration;

pub const FIRST: Duration = Duration::from_millis(250);
pub const MAX: Duration = Duration::from_secs(2);
pub const GONE_JITTER: Duration = Duration::from_millis(200);

/// The retry state of one watcher.
#[derive(Debug, Clone)]
pub struct Retry {
    failures: u32,
    rng: u64,
}

impl Retry {
    /// `seed` varies the jitter between watchers (any value; zero is fine).
    pub fn new(seed: u64) -> Retry {
        Retry {
            failures: 0,
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// A success: the next error starts the back-off from the beginning.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// How long to wait after an error; `gone` for a 410 (the watcher relists next).
    pub fn after_error(&mut self, gone: bool) -> Duration {
        let unit = self.next_unit();
        if gone {
            return GONE_JITTER.mul_f64(unit);
        }
        let base = FIRST.saturating_mul(1u32 << self.failures.min(16)).min(MAX);
        self.failures = self.failures.saturating_add(1);
        base.mul_f64(0.8 + 0.4 * unit)
    }

    /// A number in [0, 1) (splitmix64).
    fn next_unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut x = self.rng;
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        x ^= x >> 31;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 120 s outage on a virtual clock: the watcher keeps trying; when the server answers
    /// again, the next attempt comes within the largest gap, and that attempt's relist is
    /// immediate even if the server first answers 410.
    #[test]
    fn after_a_two_minute_outage_the_next_try_is_at_most_2_4_s_away() {
        let mut r = Retry::new(7);
        let (mut t, mut tries) = (Duration::ZERO, Vec::new());
        while t < Duration::from_secs(120) {
            t += r.after_error(false);
            tries.push(t);
        }
        let gaps: Vec<Duration> = tries.windows(2).map(|w| w[1] - w[0]).collect();
        let widest = gaps.iter().max().copied().unwrap_or_default();
        assert!(widest <= MAX.mul_f64(1.2), "{widest:?}");
        assert!(
            widest >= MAX.mul_f64(0.8),
            "the back-off grew to its cap: {widest:?}"
        );
        // The server is back at some instant inside the last gap: the next try is then at
        // most one gap away, and a 410 there costs at most the jitter before the relist.
        let to_relist = widest + r.after_error(true);
        assert!(to_relist <= Duration::from_secs(3), "{to_relist:?}");
    }

    #[test]
    fn a_success_resets_and_gone_relists_at_once() {
        let mut r = Retry::new(1);
        for _ in 0..10 {
            r.after_error(false);
        }
        assert!(r.after_error(false) >= MAX.mul_f64(0.8));
        r.reset();
        assert!(r.after_error(false) <= FIRST.mul_f64(1.2));
        for _ in 0..100 {
            assert!(r.after_error(true) < GONE_JITTER);
        }
        // Jitter differs between watchers.
        let (mut a, mut b) = (Retry::new(1), Retry::new(2));
        assert_ne!(a.after_error(false), b.after_error(false));
    }
}
