//! The real `backend` binary as a child process: started with only the variables a test gives
//! it, its JSON log lines read as they come, stopped by SIGTERM or SIGKILL, and killed when the
//! test fails first.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc::Receiver,
    time::{Duration, Instant},
};

use serde_json::Value;
use testkit::KeyServer;

/// The binary with an empty environment (no `backend/.env` from the developer's tree either).
pub fn backend() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_backend"));
    command.env_clear().current_dir(std::env::temp_dir());
    command
}

/// What [`Running::start`] configures: the test tenant and API against `keys`, a free loopback
/// port, JSON logs.
pub fn serving(keys: &KeyServer) -> [(&'static str, &str); 6] {
    [
        ("AZURE_TENANT_ID", testkit::TENANT_ID),
        ("AZURE_API_CLIENT_ID", testkit::CLIENT_ID),
        ("AZURE_AUTHORITY_HOST", keys.authority_host()),
        ("BIND_ADDRESS", "127.0.0.1"),
        ("PORT", "0"),
        ("LOG_FORMAT", "json"),
    ]
}

/// Runs the binary with only `vars` and asserts the configuration error: exit code 2 and one
/// line on stderr containing `expected`. Returns that line for further checks.
pub fn assert_config_error(vars: &[(&str, &str)], expected: &str) -> String {
    let output = backend()
        .envs(vars.iter().copied())
        .output()
        .expect("run backend");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "{expected}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(expected), "{expected}: {stderr}");
    stderr
}

/// The longest wait for an expected log line.
const LOG_WAIT: Duration = Duration::from_secs(20);

pub struct Running {
    child: Child,
    log: Receiver<String>,
    /// Every log line read so far.
    pub seen: Vec<String>,
}

impl Running {
    /// Starts the API against `keys` on a free loopback port with JSON logs, plus `vars`.
    pub fn start(keys: &KeyServer, vars: &[(&str, &str)]) -> Self {
        let mut command = backend();
        command.envs(serving(keys)).envs(vars.iter().copied());
        Self::spawn(command)
    }

    /// Runs `command` (made from [`backend`]) and reads its log.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("start backend");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (sender, log) = std::sync::mpsc::channel::<String>();
        std::thread::spawn(move || {
            stdout
                .lines()
                .map_while(Result::ok)
                .try_for_each(|line| sender.send(line))
        });
        Running {
            child,
            log,
            seen: Vec::new(),
        }
    }

    /// The first log line since the start that `wanted` accepts, waiting (bounded) for it if it
    /// has not been logged yet.
    pub fn wait_for_line(&mut self, wanted: impl Fn(&str) -> bool) -> String {
        if let Some(line) = self.seen.iter().find(|line| wanted(line)) {
            return line.clone();
        }
        let deadline = Instant::now() + LOG_WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.log.recv_timeout(left).unwrap_or_else(|_| {
                panic!(
                    "no expected log line within {LOG_WAIT:?}; seen:\n{}",
                    self.seen.join("\n")
                )
            });
            self.seen.push(line.clone());
            if wanted(&line) {
                return line;
            }
        }
    }

    /// The first JSON log entry since the start that `wanted` accepts (see [`Self::wait_for_line`]).
    pub fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        let parse = |line: &str| serde_json::from_str::<Value>(line).ok();
        let line = self.wait_for_line(|line| parse(line).is_some_and(|entry| wanted(&entry)));
        parse(&line).unwrap_or_default()
    }

    /// Waits for the entry whose message is `message`.
    pub fn wait_for_message(&mut self, message: &str) -> Value {
        self.wait_for(|entry| entry["fields"]["message"] == message)
    }

    /// `http://host:port` once the API logged that it listens (the store is open by then).
    pub fn base_url(&mut self) -> String {
        let listening = self.wait_for_message("listening");
        let address = listening["fields"]["address"].as_str().expect("address");
        format!("http://{address}")
    }

    /// SIGTERM: what Container Apps sends before stopping a replica.
    pub fn terminate(&self) {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(sent.success(), "SIGTERM not delivered");
    }

    /// The exit status, waiting at most `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                self.seen.extend(self.log.try_iter());
                return status;
            }
            assert!(started.elapsed() < limit, "still running after {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: no shutdown code runs, as when a replica is killed or the machine stops.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
