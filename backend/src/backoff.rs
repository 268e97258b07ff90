//! Randomised waits: exponential backoff for retries and a spread for periodic work, so replicas
//! that start together (or failed together) do not call a service in step.

use std::{
    hash::{BuildHasher, Hasher},
    time::Duration,
};

/// Exponential backoff with "equal jitter": the n-th wait is drawn from `[d/2, d]` where `d`
/// doubles from `first` up to `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    nominal: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            nominal: first.min(max),
            max,
        }
    }

    /// The wait before the next retry.
    pub fn next_delay(&mut self) -> Duration {
        let nominal = self.nominal;
        self.nominal = nominal.saturating_mul(2).min(self.max);
        nominal.mul_f64(0.5 + 0.5 * random_fraction())
    }
}

/// `interval` scaled by a random factor in [0.9, 1.1) (tested with the key refresh in
/// `auth::keys`).
pub fn spread(interval: Duration) -> Duration {
    interval.mul_f64(0.9 + 0.2 * random_fraction())
}

/// A random number in [0, 1). Std's per-instance SipHash keys are random, which is all the
/// randomness a jitter needs (no crate, no global state).
fn random_fraction() -> f64 {
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    #[expect(
        clippy::cast_precision_loss,
        reason = "a jitter factor needs no more precision"
    )]
    let fraction = random as f64 / u64::MAX as f64;
    fraction.min(0.999_999)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_jitter_bounds_up_to_the_cap() {
        let first = Duration::from_millis(500);
        let max = Duration::from_secs(10);
        for _ in 0..50 {
            let mut backoff = Backoff::new(first, max);
            let mut nominal = first;
            for _ in 0..12 {
                let wait = backoff.next_delay();
                assert!(
                    wait >= nominal / 2 && wait <= nominal,
                    "{wait:?} outside [{:?}, {nominal:?}]",
                    nominal / 2
                );
                nominal = (nominal * 2).min(max);
            }
            // Long past the cap, waits stay in [max/2, max].
            let wait = backoff.next_delay();
            assert!(wait >= max / 2 && wait <= max, "{wait:?}");
        }
    }

    #[test]
    fn backoff_waits_are_not_all_equal() {
        let waits: std::collections::HashSet<Duration> = (0..20)
            .map(|_| Backoff::new(Duration::from_secs(8), Duration::from_secs(8)).next_delay())
            .collect();
        assert!(waits.len() > 1, "no jitter: {waits:?}");
    }
}
