//! `cargo xtask dev`, the real command on free ports: it refuses to start without what it needs,
//! saying what; the SPA it serves is configured for its dev-identity and its API; a user signed in
//! at that dev-identity is served by that API; and whichever way it ends (Ctrl-C, or a part that
//! dies) every process it started is gone afterwards and the exit status says what happened.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Read},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    sync::mpsc::{self, Receiver},
    thread,
    time::{Duration, Instant},
};

use dev_identity::{DEFAULT_API_CLIENT_ID, DEFAULT_SPA_CLIENT_ID, DEFAULT_TENANT_ID};
use rustix::process::{Pid, Signal, kill_process};
use serde_json::{Value, json};
use testkit::SpaClient;

/// Start-up may include `cargo build --package backend` (see [`api_binary`]) and the SPA's first
/// wasm32 build: minutes each on a busy 2-core machine when they have to compile.
const START_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// The command gives its parts 15 s to stop; a little more for itself.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// The line the command prints once everything answers (dev-identity's banner ends with the
/// same words, as `identity | Press Ctrl-C to stop.`: the whole line tells them apart).
const READY_LINE: &str = "Press Ctrl-C to stop.";
/// How the command prints the URL to open.
const OPEN_PREFIX: &str = "  open        ";

/// The command, running, with everything it has printed so far.
struct Stack {
    child: Child,
    lines: Receiver<String>,
    output: Vec<String>,
    api_port: u16,
    identity_port: u16,
    spa_port: u16,
}

impl Stack {
    /// Starts `cargo xtask dev` with `args` on free ports and waits until it says it is ready.
    fn start(args: &[&str]) -> Self {
        let [api_port, identity_port, spa_port] = free_ports();
        let mut command = xtask_dev(args);
        command
            .args(["--api-port", &api_port.to_string()])
            .args(["--identity-port", &identity_port.to_string()])
            .args(["--spa-port", &spa_port.to_string()]);
        let mut child = spawn_piped(command);
        let (sender, lines) = mpsc::channel();
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let sender = sender.clone();
            thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = sender.send(line);
                }
            });
        }
        let mut stack = Stack {
            child,
            lines,
            output: Vec::new(),
            api_port,
            identity_port,
            spa_port,
        };
        stack.read_until(READY_LINE, START_TIMEOUT);
        stack
    }

    /// Reads output until a line is `text`; panics with all output after `limit`.
    fn read_until(&mut self, text: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        while !self.output.iter().any(|line| line == text) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self
                .lines
                .recv_timeout(left.min(Duration::from_millis(200)))
            {
                Ok(line) => self.output.push(line),
                Err(_)
                    if Instant::now() < deadline
                        && self.child.try_wait().ok().flatten().is_none() => {}
                Err(_) => panic!("no line {text:?}; output:\n{}", self.output.join("\n")),
            }
        }
    }

    fn pid(&self) -> Pid {
        Pid::from_child(&self.child)
    }

    /// Waits for the command to exit, then collects the rest of its output.
    fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + STOP_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "still running {STOP_TIMEOUT:?} after the stop; output:\n{}",
                self.output.join("\n")
            );
            thread::sleep(Duration::from_millis(50));
        };
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.output.push(line);
        }
        status
    }

    fn printed(&self, text: &str) -> bool {
        self.output.iter().any(|line| line.contains(text))
    }

    /// The URL the command told the user to open.
    fn url_to_open(&self) -> &str {
        self.output
            .iter()
            .find_map(|line| line.strip_prefix(OPEN_PREFIX))
            .unwrap_or_else(|| panic!("no URL to open; output:\n{}", self.output.join("\n")))
    }

    fn authority(&self) -> String {
        format!(
            "http://127.0.0.1:{}/{DEFAULT_TENANT_ID}",
            self.identity_port
        )
    }

    /// A client that signs in at this stack's dev-identity the way its SPA does.
    fn spa_client(&self) -> SpaClient {
        SpaClient {
            authority: self.authority(),
            client_id: DEFAULT_SPA_CLIENT_ID.to_string(),
            redirect_uri: format!("http://localhost:{}/", self.spa_port),
            api_scope: format!("api://{DEFAULT_API_CLIENT_ID}/access_as_user"),
        }
    }

    /// The API is ready and dev-identity's discovery names the issuer the API trusts.
    async fn assert_api_and_provider_answer(&self) {
        let api = format!("http://127.0.0.1:{}", self.api_port);
        assert_eq!(get(&format!("{api}/ready"), None).await.0, 200);
        let authority = self.authority();
        let (status, discovery) = get(
            &format!("{authority}/v2.0/.well-known/openid-configuration"),
            None,
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(discovery["issuer"], format!("{authority}/v2.0"));
    }

    /// `user` signs in at dev-identity and the API knows them by name and role.
    async fn assert_api_serves(&self, user: &str, name: &str, role: &str) {
        let tokens = self
            .spa_client()
            .sign_in(user)
            .await
            .unwrap_or_else(|e| panic!("{user} signs in: {e}"));
        let api = format!("http://127.0.0.1:{}", self.api_port);
        let (status, me) = get(&format!("{api}/api/me"), Some(&tokens.access_token)).await;
        assert_eq!(status, 200, "{me}");
        assert_eq!(me["name"], name);
        assert_eq!(me["roles"], json!([role]));
    }

    /// Ctrl-C: the command exits 130 and nothing it started is left, process or port.
    fn assert_ctrl_c_leaves_nothing_behind(&mut self, expected: &[&str]) {
        let started = descendants(self.pid());
        for name in expected {
            assert!(
                started.values().any(|n| n == name),
                "{name} runs as a child: {started:?}"
            );
        }
        kill_process(self.pid(), Signal::INT).expect("SIGINT");
        let status = self.wait();
        assert_eq!(
            status.code(),
            Some(130),
            "exit status after Ctrl-C; output:\n{}",
            self.output.join("\n")
        );
        assert!(self.printed("stopped on SIGINT; every part has exited"));
        assert_all_gone(&started);
        for port in [self.api_port, self.identity_port, self.spa_port] {
            assert_closed(port);
        }
    }
}

/// A GET with a bounded wait; the body as JSON (`Null` if it is not) and the status.
async fn get(url: &str, token: Option<&str>) -> (u16, Value) {
    let (status, body) = get_text(url, token).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

async fn get_text(url: &str, token: Option<&str>) -> (u16, String) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .no_proxy()
        .build()
        .expect("client");
    let mut request = http.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url} answers: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

impl Drop for Stack {
    /// A failed assertion must not leave the stack running: stop it as a user would.
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = kill_process(self.pid(), Signal::TERM);
            let deadline = Instant::now() + STOP_TIMEOUT;
            while Instant::now() < deadline && self.child.try_wait().ok().flatten().is_none() {
                thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[tokio::test]
async fn the_whole_app_comes_up_at_the_printed_url_and_ctrl_c_leaves_nothing_behind() {
    let mut stack = Stack::start(&[]);
    let url = stack.url_to_open().to_owned();
    assert_eq!(url, format!("http://localhost:{}/", stack.spa_port));

    let (status, page) = get_text(&url, None).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("boot.js") && page.contains(".wasm"),
        "the SPA's page loads the app: {page}"
    );
    let (status, config) = get(&format!("{url}config.json"), None).await;
    assert_eq!(status, 200);
    assert_eq!(
        config,
        json!({
            "clientId": DEFAULT_SPA_CLIENT_ID.to_string(),
            "authority": stack.authority(),
            "apiScope": format!("api://{DEFAULT_API_CLIENT_ID}/access_as_user"),
            "apiBaseUrl": format!("http://localhost:{}", stack.api_port),
        })
    );
    stack.assert_api_and_provider_answer().await;
    // Access tokens v1 by default, as Entra issues them.
    stack
        .assert_api_serves("admin", "Test Admin", "Admin")
        .await;

    let generated = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.dev")
        .join(format!("spa-{}", stack.spa_port));
    assert!(generated.join("config.json").is_file(), "{generated:?}");
    stack.assert_ctrl_c_leaves_nothing_behind(&["dev-identity", "backend", "trunk"]);
    assert!(!generated.exists(), "the SPA's generated files are left");
}

#[tokio::test]
async fn without_the_spa_a_v2_token_from_its_provider_is_served_by_its_api() {
    let mut stack = Stack::start(&["--no-spa", "--access-token-version", "2"]);
    assert!(stack.printed("SPA         not started (--no-spa)"));
    stack.assert_api_and_provider_answer().await;
    stack
        .assert_api_serves("editor", "Test Editor", "Editor")
        .await;
    stack.assert_ctrl_c_leaves_nothing_behind(&["dev-identity", "backend"]);
}

#[tokio::test]
async fn a_part_that_dies_stops_the_stack_and_its_last_lines_are_shown() {
    let mut stack = Stack::start(&["--no-spa"]);
    let started = descendants(stack.pid());
    let (&api, _) = started
        .iter()
        .find(|(_, name)| *name == "backend")
        .expect("the API runs as a child");

    kill_process(api, Signal::KILL).expect("SIGKILL the API");
    let status = stack.wait();
    let output = stack.output.join("\n");
    assert_eq!(status.code(), Some(1), "output:\n{output}");
    assert!(
        stack.printed("exited (signal: 9 (SIGKILL)); its last lines:"),
        "{output}"
    );
    assert!(
        stack.printed("xtask: the API ("),
        "names the part: {output}"
    );
    assert!(
        stack
            .output
            .iter()
            .any(|line| line.starts_with("    api | ") && line.contains("listening")),
        "shows the API's own last lines: {output}"
    );
    assert_all_gone(&started);
    assert_closed(stack.identity_port);
}

#[test]
fn a_port_in_use_is_named_with_the_flag_that_moves_it_and_nothing_starts() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("a free port");
    let port = taken.local_addr().expect("address").port();
    let output = run_to_end(xtask_dev(&["--no-spa", "--api-port", &port.to_string()]));
    assert_refused(
        &output,
        &format!("xtask: cannot start the local stack: port {port} (the API) is not free ("),
        "or choose another with --api-port <PORT>",
    );
}

#[test]
fn a_tool_it_cannot_install_is_named_with_its_fix_and_nothing_starts() {
    // A CARGO_HOME without the tools xtask installs, and a PATH without npm or apt-get: wasm-opt
    // (npm's binaryen) is missing and cannot be installed here.
    let home = tempfile::tempdir().expect("temp dir");
    let bin = home.path().join("bin");
    std::fs::create_dir(&bin).expect("bin");
    for tool in ["wasm-bindgen", "rustc"] {
        let found = on_path(tool).unwrap_or_else(|| panic!("{tool} is on PATH for this test"));
        std::os::unix::fs::symlink(found, bin.join(tool)).expect("symlink");
    }
    let [api, identity, spa] = free_ports().map(|port| port.to_string());
    let mut command = xtask_dev(&["--api-port", &api, "--identity-port", &identity]);
    command
        .args(["--spa-port", &spa])
        .env("CARGO_HOME", home.path())
        .env("PATH", &bin);
    let output = run_to_end(command);
    assert_refused(
        &output,
        "xtask: cannot start the local stack: wasm-opt comes from npm, which is not installed: \
         run `",
        "apt-get install npm` (Node.js and npm), then run this again",
    );
}

/// `cargo xtask dev` with `args`, on the API and dev-identity [`built`] finds, if there are.
fn xtask_dev(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("dev").args(args);
    if let Some(binary) = built("backend") {
        command.arg("--api-binary").arg(binary);
    }
    if let Some(binary) = built("dev-identity") {
        command.arg("--identity-binary").arg(binary);
    }
    command
}

/// Starts `command` without input, its output captured.
fn spawn_piped(mut command: Command) -> Child {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cargo xtask dev starts")
}

/// Runs a command that must end by itself soon (a refusal, a line or two), with a bounded wait.
fn run_to_end(command: Command) -> Output {
    let mut child = spawn_piped(command);
    let deadline = Instant::now() + STOP_TIMEOUT;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running {STOP_TIMEOUT:?} after it should have refused to start");
        }
        thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// Exit status 1, nothing on stdout, and one line on stderr that starts and ends as given.
fn assert_refused(output: &Output, starts: &str, ends: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(output.stdout.is_empty(), "nothing started: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].starts_with(starts) && lines[0].ends_with(ends),
        "{stderr}"
    );
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The executable `cargo test --workspace` has just built for the package's own tests (the API,
/// dev-identity), beside this test's xtask. Without it (`cargo test -p xtask` on a fresh
/// checkout) the command builds them itself: `cargo build -p backend` resolves other features
/// than a workspace test build, so it would compile the API's dependencies a second time,
/// minutes on 2 cores.
fn built(name: &str) -> Option<PathBuf> {
    Some(Path::new(env!("CARGO_BIN_EXE_xtask")).with_file_name(name)).filter(|p| p.is_file())
}

/// Three distinct ports nothing listens on now.
fn free_ports() -> [u16; 3] {
    let listeners =
        [(); 3].map(|()| TcpListener::bind("127.0.0.1:0").expect("a free loopback port"));
    listeners.map(|listener| listener.local_addr().expect("address").port())
}

/// Every process below `root`, by pid, with its command name (Linux `/proc`).
fn descendants(root: Pid) -> HashMap<Pid, String> {
    let mut parents = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Fields after the command name, which is in parentheses and may contain spaces.
        let (Some((head, rest)), Some(pid)) = (stat.rsplit_once(')'), Pid::from_raw(pid)) else {
            continue;
        };
        let name = head.split_once('(').map(|(_, name)| name.to_owned());
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok());
        if let (Some(name), Some(ppid)) = (name, ppid) {
            parents.push((pid, Pid::from_raw(ppid), name));
        }
    }
    let mut found = HashMap::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for (pid, ppid, name) in &parents {
            if *ppid == Some(parent) && found.insert(*pid, name.clone()).is_none() {
                frontier.push(*pid);
            }
        }
    }
    found
}

fn assert_all_gone(started: &HashMap<Pid, String>) {
    let left: Vec<_> = started
        .iter()
        .filter(|(pid, _)| Path::new(&format!("/proc/{}", pid.as_raw_pid())).exists())
        .collect();
    assert!(left.is_empty(), "processes left behind: {left:?}");
}

fn assert_closed(port: u16) {
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "port {port} still accepts connections"
    );
}
