//! A child process in a process group of its own, so stopping the group also stops every process
//! it started (chromedriver's browsers, Lighthouse's Chromium): killing the child alone would leave
//! them running.

use std::{
    io,
    os::unix::process::CommandExt,
    process::{Child, Command},
    time::{Duration, Instant},
};

use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};

/// How long the group gets to exit after SIGTERM before SIGKILL.
const STOP: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(100);

/// Stops the whole group when dropped, also when a test panicked.
#[derive(Debug)]
pub struct ProcessGroup {
    child: Child,
}

impl ProcessGroup {
    /// Starts `command` as the leader of a new process group.
    pub fn spawn(command: &mut Command) -> io::Result<Self> {
        let child = command.process_group(0).spawn()?;
        Ok(Self { child })
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        let group = Pid::from_child(&self.child);
        let _ = kill_process_group(group, Signal::TERM);
        let _ = self.child.wait();
        let deadline = Instant::now() + STOP;
        while test_kill_process_group(group).is_ok() && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
        let _ = kill_process_group(group, Signal::KILL);
    }
}
