//! The provider's notion of "now".

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

/// Wall-clock time in whole seconds since the Unix epoch (the unit of `iat`, `nbf` and `exp`),
/// which tests may move forward so that codes, sessions and tokens expire without sleeping.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    offset_secs: Arc<AtomicU64>,
}

impl Clock {
    pub(crate) fn now(&self) -> u64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        system.saturating_add(self.offset_secs.load(Ordering::Relaxed))
    }

    pub(crate) fn advance(&self, by: Duration) {
        self.offset_secs.fetch_add(by.as_secs(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward_by_that_much() {
        let clock = Clock::default();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        let after = clock.now();
        assert!(
            (3600..=3601).contains(&(after - before)),
            "moved {}",
            after - before
        );
    }
}
