//! One step of a task (a check, a build, an install), run the way a person wants to watch it: a
//! line when it starts, its progress while it runs, a line with its duration when it ends. Its
//! output goes to a log file; when it fails, its last lines are shown with the log's path.
//! `--verbose` shows the output as it comes instead.

use std::{
    ffi::{OsStr, OsString},
    io::{self, IsTerminal, Write},
    path::{Path, PathBuf},
    process::{ExitStatus, Stdio},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use rustix::process::{Pid, Signal, kill_process_group};
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    process::Command,
    signal::unix::{SignalKind, signal},
    time::{Instant, interval, sleep_until},
};

use crate::tools::{self, Tool};

/// A step's time limit unless it sets its own: generous, so only a hung step reaches it.
const DEFAULT_LIMIT: Duration = Duration::from_secs(75 * 60);
/// Without a terminal (CI's log), how often a running step says it is still running.
const HEARTBEAT: Duration = Duration::from_secs(60);
/// Lines of a failed step's output shown on the terminal (the log has them all).
const FAILURE_LINES: usize = 60;
/// How long a stopped step's processes get between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A command to run as a step, and what it needs installed first.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    program: OsString,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    limit: Duration,
    needs: Vec<&'static Tool>,
}

impl Step {
    pub fn new(name: impl Into<String>, program: impl AsRef<OsStr>) -> Self {
        Step {
            name: name.into(),
            program: program.as_ref().to_owned(),
            args: Vec::new(),
            env: Vec::new(),
            limit: DEFAULT_LIMIT,
            needs: Vec::new(),
        }
    }

    /// A `cargo` step, with the cargo that runs this task.
    pub fn cargo(name: impl Into<String>, args: &[&str]) -> Self {
        Step::new(name, crate::cargo()).args(args)
    }

    pub fn args<S: AsRef<OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn envs<K: AsRef<OsStr>, V: AsRef<OsStr>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        for (key, value) in vars {
            self = self.env(key, value);
        }
        self
    }

    pub fn limit(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Tools that must be installed before this step runs (see [`crate::tools`]).
    pub fn needs(mut self, tools: &[&'static Tool]) -> Self {
        self.needs.extend_from_slice(tools);
        self
    }

    pub fn needed_tools(&self) -> &[&'static Tool] {
        &self.needs
    }

    /// The command line, cut after 80 characters (a list of 50 files says little more).
    pub fn short_command_line(&self) -> String {
        let line = self.command_line();
        match line.char_indices().nth(80) {
            Some((cut, _)) => format!("{} …", &line[..cut]),
            None => line,
        }
    }

    /// The command line, as a person would type it.
    pub fn command_line(&self) -> String {
        let program = Path::new(&self.program)
            .file_name()
            .unwrap_or(self.program.as_os_str());
        std::iter::once(program)
            .chain(self.args.iter().map(OsString::as_os_str))
            .map(|part| part.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Why, in a few words ("exit status 101", "timed out after 45 min").
    Failed(String),
    /// Not run; the line says why and what would make it run.
    Skipped(String),
}

/// Totals of `test result:` lines (cargo test, wasm-bindgen-test-runner).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestCounts {
    pub passed: u64,
    pub failed: u64,
    pub ignored: u64,
}

impl TestCounts {
    fn add(&mut self, other: TestCounts) {
        self.passed += other.passed;
        self.failed += other.failed;
        self.ignored += other.ignored;
    }
}

/// What running a step gave.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: String,
    pub outcome: Outcome,
    pub took: Duration,
    pub tests: Option<TestCounts>,
    /// Where its output is (empty for a step that did not run).
    pub log: PathBuf,
}

impl Report {
    pub fn skipped(name: &str, why: String) -> Self {
        Report {
            name: name.to_owned(),
            outcome: Outcome::Skipped(why),
            took: Duration::ZERO,
            tests: None,
            log: PathBuf::new(),
        }
    }

    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }
}

/// Runs steps, writing their output to logs in one folder.
#[derive(Debug)]
pub struct Runner {
    verbose: bool,
    terminal: bool,
    log_dir: PathBuf,
}

/// Ctrl-C or SIGTERM arrived while a step ran: the step was stopped, and so should the task be.
#[derive(Debug)]
pub struct Interrupted;

impl Runner {
    pub fn new(task: &str, verbose: bool) -> Result<Self, String> {
        let log_dir = crate::target_dir().join("xtask").join(task);
        std::fs::create_dir_all(&log_dir)
            .map_err(|e| format!("cannot create {}: {e}", log_dir.display()))?;
        Ok(Runner {
            verbose,
            terminal: io::stderr().is_terminal(),
            log_dir,
        })
    }

    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// Runs `step` to its end (or its limit), showing progress; `label` goes in front of its
    /// lines (e.g. "[3/9]").
    pub async fn run(&self, label: &str, step: &Step) -> Result<Report, Interrupted> {
        let log_path = self.log_dir.join(format!("{}.log", file_name(&step.name)));
        say(&format!(
            "{label} {} ({})",
            step.name,
            step.short_command_line()
        ));
        let started = Instant::now();
        let outcome = match self.spawn(step, &log_path).await {
            Ok(outcome) => outcome,
            Err(StepError::Interrupted) => {
                self.clear_status();
                say(&format!("{label} {}: stopped (interrupted)", step.name));
                return Err(Interrupted);
            }
            Err(StepError::Other(why)) => Outcome::Failed(why),
        };
        self.clear_status();
        let took = started.elapsed();
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        let tests = test_counts(&log);
        match &outcome {
            Outcome::Passed => say(&format!("{label} {}: ok ({})", step.name, duration(took))),
            Outcome::Failed(why) | Outcome::Skipped(why) => {
                if !self.verbose {
                    // Not cargo's JSON messages (`--message-format=json`): its rendered errors.
                    let lines: Vec<&str> = log.lines().filter(|l| !l.starts_with('{')).collect();
                    let tail = &lines[lines.len().saturating_sub(FAILURE_LINES)..];
                    for line in tail {
                        say(&format!("    | {line}"));
                    }
                }
                say(&format!(
                    "{label} {}: FAILED ({why}) after {}; full output: {}",
                    step.name,
                    duration(took),
                    log_path.display()
                ));
            }
        }
        Ok(Report {
            name: step.name.clone(),
            outcome,
            took,
            tests,
            log: log_path,
        })
    }

    async fn spawn(&self, step: &Step, log_path: &Path) -> Result<Outcome, StepError> {
        let log = std::fs::File::create(log_path)
            .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
        let mut command = Command::new(&step.program);
        command
            .args(&step.args)
            .env("PATH", tools::search_path())
            .envs(step.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group: stopping the step reaches what it started (rustc, tests).
            .process_group(0)
            .kill_on_drop(true)
            // Paths in the steps (`infra`, `dist/`) are the workspace's, wherever xtask started.
            .current_dir(crate::workspace_root());
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", step.program.to_string_lossy()))?;
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw)
            .ok_or("the step exited before it could be watched")?;
        let progress = Progress::default();
        let sink = Arc::new(Mutex::new(io::BufWriter::new(log)));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(self.forward(out, sink.clone(), progress.clone()));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(self.forward(err, sink.clone(), progress.clone()));
        }
        let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let mut terminate = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let started = Instant::now();
        let deadline = started + step.limit;
        let mut tick = interval(if self.terminal {
            Duration::from_secs(1)
        } else {
            HEARTBEAT
        });
        tick.tick().await;
        let status: Result<ExitStatus, StepError> = loop {
            tokio::select! {
                status = child.wait() => break status.map_err(|e| e.to_string().into()),
                _ = tick.tick() => self.show_status(&step.name, started.elapsed(), &progress),
                () = sleep_until(deadline) => {
                    stop_group(group, &mut child).await;
                    break Err(format!("timed out after {}", duration(step.limit)).into());
                }
                _ = interrupt.recv() => {
                    stop_group(group, &mut child).await;
                    break Err(StepError::Interrupted);
                }
                _ = terminate.recv() => {
                    stop_group(group, &mut child).await;
                    break Err(StepError::Interrupted);
                }
            }
        };
        for reader in readers {
            // The pipes close when every process holding them has exited; a leftover process
            // is not waited for.
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
        let _ = sink.lock().unwrap_or_else(PoisonError::into_inner).flush();
        let status = status?;
        Ok(if status.success() {
            Outcome::Passed
        } else {
            Outcome::Failed(match status.code() {
                Some(code) => format!("exit status {code}"),
                None => status.to_string(),
            })
        })
    }

    /// Copies `stream` to the log (and to the terminal with `--verbose`), noting progress.
    fn forward(
        &self,
        stream: impl AsyncRead + Unpin + Send + 'static,
        sink: Arc<Mutex<io::BufWriter<std::fs::File>>>,
        progress: Progress,
    ) -> tokio::task::JoinHandle<()> {
        let verbose = self.verbose;
        tokio::spawn(async move {
            let mut lines = BufReader::new(stream).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                progress.note(&line);
                if verbose {
                    eprintln!("{line}");
                }
                let mut sink = sink.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = writeln!(sink, "{line}");
            }
        })
    }

    fn show_status(&self, name: &str, elapsed: Duration, progress: &Progress) {
        if self.verbose {
            return;
        }
        let detail = progress.describe();
        if self.terminal {
            let mut line = format!("      {name}: {}{detail}", duration(elapsed));
            line.truncate(line.floor_char_boundary(100));
            eprint!("\r\x1b[2K{line}");
        } else {
            say(&format!(
                "      {name}: still running after {}{detail}",
                duration(elapsed)
            ));
        }
    }

    fn clear_status(&self) {
        if self.terminal && !self.verbose {
            eprint!("\r\x1b[2K");
        }
    }
}

enum StepError {
    Interrupted,
    Other(String),
}

impl From<String> for StepError {
    fn from(why: String) -> Self {
        StepError::Other(why)
    }
}

impl From<&str> for StepError {
    fn from(why: &str) -> Self {
        StepError::Other(why.to_owned())
    }
}

/// SIGTERM to the step's group, SIGKILL after a grace period.
async fn stop_group(group: Pid, child: &mut tokio::process::Child) {
    let _ = kill_process_group(group, Signal::TERM);
    if tokio::time::timeout(STOP_GRACE, child.wait())
        .await
        .is_err()
    {
        let _ = kill_process_group(group, Signal::KILL);
        let _ = child.wait().await;
    }
}

/// What a running step has shown of its progress: cargo's `Compiling` lines.
#[derive(Debug, Clone, Default)]
struct Progress(Arc<Mutex<(usize, String)>>);

impl Progress {
    fn note(&self, line: &str) {
        let trimmed = line.trim_start();
        let Some(unit) = ["Compiling ", "Checking ", "Installing ", "Running "]
            .iter()
            .find_map(|verb| trimmed.strip_prefix(verb).map(|rest| (verb, rest)))
        else {
            return;
        };
        let mut state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if matches!(*unit.0, "Compiling " | "Checking ") {
            state.0 += 1;
        }
        state.1 = format!("{}{}", unit.0, unit.1);
    }

    fn describe(&self) -> String {
        let state = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match (state.0, state.1.as_str()) {
            (_, "") => String::new(),
            (0, last) => format!(", {last}"),
            (built, last) => format!(", {built} crates built, {last}"),
        }
    }
}

/// A line of the task's own output (stderr, like cargo's; captured in unit tests).
pub fn say(line: &str) {
    eprintln!("{line}");
}

/// `95 s`, `4 min 05 s`.
pub fn duration(took: Duration) -> String {
    let secs = took.as_secs();
    if secs < 100 {
        format!("{secs} s")
    } else {
        format!("{} min {:02} s", secs / 60, secs % 60)
    }
}

/// The totals of the `test result:` lines in a step's output, if it ran tests.
pub fn test_counts(output: &str) -> Option<TestCounts> {
    let mut total: Option<TestCounts> = None;
    for line in output.lines() {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            continue;
        };
        let count = |word: &str| -> u64 {
            rest.split(';')
                .find_map(|part| part.trim().strip_suffix(word))
                .and_then(|n| n.trim().rsplit(' ').next()?.parse().ok())
                .unwrap_or(0)
        };
        total.get_or_insert_default().add(TestCounts {
            passed: count(" passed"),
            failed: count(" failed"),
            ignored: count(" ignored"),
        });
    }
    total
}

/// A step's name as a file name: `clippy (wasm32)` → `clippy-wasm32`.
fn file_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// The counts of several steps together.
pub fn total_tests<'a>(reports: impl IntoIterator<Item = &'a Report>) -> Option<TestCounts> {
    let mut total: Option<TestCounts> = None;
    for counts in reports.into_iter().filter_map(|r| r.tests) {
        total.get_or_insert_default().add(counts);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_results_are_added_up_across_binaries() {
        let output = "running 3 tests\n\
            test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.1s\n\
            noise\n\
            test result: FAILED. 10 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(
            test_counts(output),
            Some(TestCounts {
                passed: 13,
                failed: 2,
                ignored: 1
            })
        );
        assert_eq!(test_counts("Compiling serde\nFinished\n"), None);
    }

    #[test]
    fn progress_counts_compiled_crates_and_names_the_last() {
        let progress = Progress::default();
        assert_eq!(progress.describe(), "");
        progress.note("   Compiling serde v1.0.228");
        progress.note("warning: something");
        progress.note("    Checking xtask v0.1.0 (/repo/xtask)");
        assert_eq!(
            progress.describe(),
            ", 2 crates built, Checking xtask v0.1.0 (/repo/xtask)"
        );
    }

    #[test]
    fn names_and_durations_read_well() {
        assert_eq!(file_name("clippy (wasm32)"), "clippy-wasm32");
        assert_eq!(file_name("SPA release build"), "spa-release-build");
        assert_eq!(duration(Duration::from_secs(42)), "42 s");
        assert_eq!(duration(Duration::from_secs(245)), "4 min 05 s");
        let step = Step::cargo("clippy", &["clippy", "--workspace"]);
        assert_eq!(step.command_line(), "cargo clippy --workspace");
        assert_eq!(step.short_command_line(), "cargo clippy --workspace");
        let long = Step::new("shellcheck", "shellcheck").args(["a-script.sh"; 20]);
        assert_eq!(long.short_command_line().chars().count(), 82);
        assert!(long.short_command_line().ends_with(" …"));
    }

    #[tokio::test]
    async fn a_failing_step_is_reported_with_its_status_and_a_passing_one_counts_its_tests() {
        let dir = tempfile::tempdir().expect("temp dir");
        let runner = Runner {
            verbose: false,
            terminal: false,
            log_dir: dir.path().to_owned(),
        };
        let ok = Step::new("passes", "sh").args([
            "-c",
            "echo 'test result: ok. 4 passed; 0 failed; 0 ignored; 0 measured'",
        ]);
        let report = runner.run("[1/2]", &ok).await.expect("not interrupted");
        assert_eq!(report.outcome, Outcome::Passed);
        assert_eq!(report.tests.map(|t| t.passed), Some(4));

        let failing = Step::new("fails", "sh").args(["-c", "echo boom >&2; exit 3"]);
        let report = runner
            .run("[2/2]", &failing)
            .await
            .expect("not interrupted");
        assert_eq!(report.outcome, Outcome::Failed("exit status 3".into()));
        let log = std::fs::read_to_string(dir.path().join("fails.log")).expect("log");
        assert_eq!(log, "boom\n");

        let slow = Step::new("slow", "sleep")
            .args(["30"])
            .limit(Duration::from_millis(300));
        let report = runner.run("[3/3]", &slow).await.expect("not interrupted");
        assert_eq!(
            report.outcome,
            Outcome::Failed("timed out after 0 s".into())
        );
    }
}
