//! The stack's child processes. Each runs in a process group of its own: Ctrl-C in the terminal
//! then reaches only this command, which stops the parts itself and can tell a requested stop
//! from a crash, and a signal sent to the group also reaches what the part started (trunk's
//! cargo, rustc and wasm-bindgen), so nothing is left behind.

use std::{
    process::{ExitStatus, Stdio},
    time::Duration,
};

use rustix::process::{
    Pid, Signal, WaitOptions, getpid, kill_process_group, set_child_subreaper,
    test_kill_process_group, waitpgid,
};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, BufReader},
    process::{Child, Command},
    sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel},
    task::JoinHandle,
    time::{Instant, sleep, timeout, timeout_at},
};

use super::output::{self, Shown, Tail};

/// Longest line read at once; a longer one is printed in pieces.
const MAX_LINE_BYTES: u64 = 64 * 1024;
/// How often the parts are checked for an exit.
const POLL: Duration = Duration::from_millis(100);
/// How long killed processes get to disappear.
const KILL_WAIT: Duration = Duration::from_secs(1);

/// Makes this process the one that inherits the orphans of the parts (a process whose parent
/// exits first, e.g. a compiler under trunk), so they stay in reach until stopped and reaped.
pub fn adopt_orphans() -> std::io::Result<()> {
    set_child_subreaper(Some(getpid())).map_err(Into::into)
}

/// A part of the stack running as a child process.
#[derive(Debug)]
pub struct Part {
    /// Short name, in front of each of its output lines.
    pub name: &'static str,
    /// What it is, for messages: "the API (target/debug/backend)".
    pub title: String,
    child: Child,
    group: Pid,
    tail: Tail,
    readers: Vec<JoinHandle<()>>,
}

/// How a part ended when it was asked to stop.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    /// It and everything it started exited within the grace period (or had already).
    Cleanly,
    /// It, or a process it started, outlived the grace period and was killed.
    Killed,
}

impl Part {
    /// Starts `command` in a new process group, its output printed (the lines `shown` lets
    /// through), remembered, and copied to `copy` if given.
    pub fn spawn(
        name: &'static str,
        title: String,
        mut command: Command,
        shown: &Shown,
        copy: Option<&UnboundedSender<String>>,
    ) -> Result<Self, String> {
        if !output::colors() {
            // https://no-color.org, honoured by the API's and trunk's log output. "true", not "1":
            // trunk 0.21 reads the variable as its `--no-color` flag, which takes only true/false.
            command.env("NO_COLOR", "true");
        }
        let mut child = command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A last resort should this command itself fail: never leave the leader running.
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {title}: {e}"))?;
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw)
            .ok_or_else(|| format!("{title} exited before it could be watched"))?;
        let tail = Tail::default();
        let mut readers = Vec::new();
        let sink = || Sink {
            name,
            tail: tail.clone(),
            shown: shown.clone(),
            copy: copy.cloned(),
        };
        if let Some(stdout) = child.stdout.take() {
            readers.push(forward(stdout, sink()));
        }
        if let Some(stderr) = child.stderr.take() {
            readers.push(forward(stderr, sink()));
        }
        Ok(Part {
            name,
            title,
            child,
            group,
            tail,
            readers,
        })
    }

    fn try_exit(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Its last lines of output, once what it wrote before exiting has been read (a second at
    /// most: a process it started may still hold the pipe open).
    pub async fn last_lines(&mut self) -> Vec<String> {
        for reader in &mut self.readers {
            let _ = timeout(Duration::from_secs(1), reader).await;
        }
        self.tail.lines()
    }

    /// Asks the part and everything in its group to stop (SIGTERM).
    pub fn terminate(&self) {
        // ESRCH: the group is already gone, which is what was asked.
        let _ = kill_process_group(self.group, Signal::TERM);
    }

    /// Waits until the part and everything in its group have exited, at most until `deadline`;
    /// then kills whatever is left.
    pub async fn reap(&mut self, deadline: Instant) -> Stopped {
        let mut stopped = Stopped::Cleanly;
        if timeout_at(deadline, self.child.wait()).await.is_err() {
            stopped = Stopped::Killed;
            let _ = kill_process_group(self.group, Signal::KILL);
            let _ = self.child.wait().await;
        }
        // What the part started and left behind was handed to this process (a child
        // subreaper): reap it here, or it would linger as a zombie in the group.
        let mut killed_at = None;
        loop {
            while let Ok(Some(_)) = waitpgid(self.group, WaitOptions::NOHANG) {}
            if test_kill_process_group(self.group).is_err() {
                return stopped;
            }
            let now = Instant::now();
            match killed_at {
                None if now >= deadline => {
                    let _ = kill_process_group(self.group, Signal::KILL);
                    killed_at = Some(now);
                    stopped = Stopped::Killed;
                }
                // Left: processes that are not this one's to reap, killed all the same.
                Some(at) if now >= at + KILL_WAIT => return stopped,
                _ => {}
            }
            sleep(POLL).await;
        }
    }
}

/// The parts started so far, in start order.
#[derive(Debug, Default)]
pub struct Parts(Vec<Part>);

impl Parts {
    pub fn start(
        &mut self,
        name: &'static str,
        title: String,
        command: Command,
        shown: &Shown,
    ) -> Result<(), String> {
        self.0.push(Part::spawn(name, title, command, shown, None)?);
        Ok(())
    }

    /// Like [`Parts::start`], and every line it prints also comes out of the receiver.
    pub fn start_watched(
        &mut self,
        name: &'static str,
        title: String,
        command: Command,
    ) -> Result<UnboundedReceiver<String>, String> {
        let (copy, lines) = unbounded_channel();
        self.0.push(Part::spawn(
            name,
            title,
            command,
            &Shown::all(),
            Some(&copy),
        )?);
        Ok(lines)
    }

    /// Resolves when any part exits, with that part and its status. Never resolves while all run.
    pub async fn first_exit(&mut self) -> (&mut Part, ExitStatus) {
        loop {
            let exited = self
                .0
                .iter_mut()
                .enumerate()
                .find_map(|(i, part)| part.try_exit().map(|status| (i, status)));
            if let Some((i, status)) = exited {
                return (&mut self.0[i], status);
            }
            sleep(POLL).await;
        }
    }

    /// SIGTERM to every part at once, then waits for them all within `grace`; returns the
    /// titles of the parts that had to be killed.
    pub async fn stop(&mut self, grace: Duration) -> Vec<String> {
        for part in &self.0 {
            part.terminate();
        }
        let deadline = Instant::now() + grace;
        let mut killed = Vec::new();
        for part in self.0.iter_mut().rev() {
            if part.reap(deadline).await == Stopped::Killed {
                killed.push(part.title.clone());
            }
        }
        killed
    }
}

/// Where a part's lines go.
#[derive(Debug)]
struct Sink {
    name: &'static str,
    tail: Tail,
    shown: Shown,
    copy: Option<UnboundedSender<String>>,
}

/// Prints each line of `stream` as output of its part (if shown), keeps it in the tail, and
/// copies it to whoever watches.
fn forward(stream: impl AsyncRead + Unpin + Send + 'static, sink: Sink) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut reader = BufReader::new(stream);
        let mut bytes = Vec::new();
        loop {
            bytes.clear();
            match (&mut reader)
                .take(MAX_LINE_BYTES)
                .read_until(b'\n', &mut bytes)
                .await
            {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let text = String::from_utf8_lossy(&bytes);
            let line = text.trim_end_matches(['\n', '\r']);
            if sink.shown.show(line) {
                output::print(sink.name, line);
            }
            sink.tail.push(line);
            if let Some(copy) = &sink.copy {
                // Nobody listening any more is fine: the line was printed.
                let _ = copy.send(line.to_owned());
            }
        }
    })
}
