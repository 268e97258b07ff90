//! How many writes the group commit waits for before it commits: all the writers at once (one
//! group), or half of them (two groups that take turns), whichever commits more writes per
//! second on this machine, measured as the writer runs.
//!
//! With one group, the clients move in lock-step: while the batch commits, the request threads
//! wait; while they answer it and parse the next requests, the disk waits. With two groups, one
//! group's commit overlaps the other's requests, at the price of two fsyncs where one would do.
//! Which is faster depends on the disk and on the CPU (two groups were 1.3× faster on the 2-core
//! machine's disk, whose fsync takes about 0.1 ms; on a disk whose fsync takes milliseconds, one
//! group is), so the writer measures both: it counts the writes it commits in windows of
//! [`WINDOW`], tries the other way for one window after the first and then every
//! [`TRIAL_EVERY`] windows, and keeps it only if it committed [`BETTER`] times as many.

use std::time::Duration;

use tokio::time::Instant;

/// One measurement.
const WINDOW: Duration = Duration::from_millis(300);
/// A window longer than this had an idle gap in it: not a measurement of either way.
const STALE: Duration = Duration::from_secs(1);
/// Windows between two trials of the other way.
const TRIAL_EVERY: u32 = 10;
/// How much more a trial must commit to be kept: less is noise.
const BETTER: f64 = 1.05;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Groups {
    One,
    Two,
}

impl Groups {
    fn other(self) -> Self {
        match self {
            Groups::One => Groups::Two,
            Groups::Two => Groups::One,
        }
    }
}

/// The writer's choice of [`Groups`], and the measurements it is based on.
#[derive(Debug)]
pub(super) struct Pacing {
    groups: Groups,
    /// When the current window started (its first commit), and the writes committed since.
    window: Option<(Instant, u64)>,
    /// During a trial: the writes per second of the way being tried against.
    trial_of: Option<f64>,
    /// Windows left before the next trial.
    until_trial: u32,
}

impl Default for Pacing {
    fn default() -> Self {
        Self {
            groups: Groups::One,
            window: None,
            trial_of: None,
            until_trial: 1,
        }
    }
}

impl Pacing {
    /// How many writes to gather when `active` clients are writing.
    pub(super) fn wanted(&self, active: usize) -> usize {
        match self.groups {
            Groups::One => active,
            Groups::Two => active.div_ceil(2),
        }
    }

    /// Counts a commit of `writes` that ended at `now`.
    pub(super) fn committed(&mut self, writes: usize, now: Instant) {
        let writes = writes as u64;
        let Some((started, counted)) = self.window else {
            self.window = Some((now, writes));
            return;
        };
        let elapsed = now.saturating_duration_since(started);
        if elapsed < WINDOW {
            self.window = Some((started, counted + writes));
            return;
        }
        // This commit opens the next window.
        self.window = Some((now, writes));
        if elapsed > STALE {
            // An idle gap: start over, and let a trial in progress be judged on a real window.
            return;
        }
        self.window_ended(counted as f64 / elapsed.as_secs_f64());
    }

    fn window_ended(&mut self, rate: f64) {
        if let Some(before) = self.trial_of.take() {
            if rate >= before * BETTER {
                tracing::info!(
                    groups = ?self.groups,
                    writes_per_second = rate as u64,
                    before = before as u64,
                    "group commit: switched"
                );
            } else {
                self.groups = self.groups.other();
            }
            self.until_trial = TRIAL_EVERY;
        } else if self.until_trial <= 1 {
            self.trial_of = Some(rate);
            self.groups = self.groups.other();
        } else {
            self.until_trial -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits batches of 16 for `windows` windows, at `per_window(groups)` writes a window.
    fn run(
        pacing: &mut Pacing,
        clock: &mut Instant,
        windows: u32,
        per_window: impl Fn(Groups) -> u32,
    ) {
        let end = *clock + WINDOW * windows;
        while *clock < end {
            *clock += WINDOW / (per_window(pacing.groups) / 16);
            pacing.committed(16, *clock);
        }
    }

    #[test]
    fn keeps_two_groups_when_they_commit_more() {
        let mut pacing = Pacing::default();
        let mut clock = Instant::now();
        assert_eq!(pacing.wanted(32), 32);
        run(&mut pacing, &mut clock, 5, |groups| match groups {
            Groups::One => 2_400,
            Groups::Two => 3_200,
        });
        assert_eq!(pacing.groups, Groups::Two);
        assert_eq!(pacing.wanted(32), 16);
        assert_eq!(pacing.wanted(3), 2);
        // It stays with two groups, trying one group again for a window now and then.
        let mut windows_of_two = 0;
        for _ in 0..3 * TRIAL_EVERY {
            run(&mut pacing, &mut clock, 1, |groups| match groups {
                Groups::One => 2_400,
                Groups::Two => 3_200,
            });
            windows_of_two += u32::from(pacing.groups == Groups::Two);
        }
        assert!(windows_of_two >= 3 * TRIAL_EVERY - 4, "{windows_of_two}");
    }

    #[test]
    fn goes_back_to_one_group_when_two_are_not_better() {
        let mut pacing = Pacing::default();
        let mut clock = Instant::now();
        // Two groups commit 3% more: noise, not kept.
        run(&mut pacing, &mut clock, 5, |groups| match groups {
            Groups::One => 3_200,
            Groups::Two => 3_296,
        });
        assert_eq!(pacing.groups, Groups::One);
        // The disk changes and two groups become better: the next trial finds it.
        run(
            &mut pacing,
            &mut clock,
            TRIAL_EVERY + 3,
            |groups| match groups {
                Groups::One => 1_600,
                Groups::Two => 3_200,
            },
        );
        assert_eq!(pacing.groups, Groups::Two);
        // And back.
        run(
            &mut pacing,
            &mut clock,
            TRIAL_EVERY + 3,
            |groups| match groups {
                Groups::One => 4_800,
                Groups::Two => 3_200,
            },
        );
        assert_eq!(pacing.groups, Groups::One);
    }

    #[test]
    fn an_idle_gap_is_not_a_measurement() {
        let mut pacing = Pacing::default();
        let mut clock = Instant::now();
        run(&mut pacing, &mut clock, 2, |_| 3_200);
        let trying = pacing.groups;
        assert_eq!(trying, Groups::Two, "the trial after the first window");
        // The load stops for a minute in the middle of the trial: that window does not count
        // against it.
        clock += Duration::from_secs(60);
        pacing.committed(1, clock);
        assert_eq!(pacing.groups, Groups::Two);
        run(&mut pacing, &mut clock, 2, |groups| match groups {
            Groups::One => 3_200,
            Groups::Two => 4_000,
        });
        assert_eq!(pacing.groups, Groups::Two);
    }
}
