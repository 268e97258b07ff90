//! `cargo xtask dev`: the whole app on this machine, without an Azure tenant.
//!
//! In order, each step saying what it does: the ports are checked; the browser toolchain is
//! installed if it is missing (`crate::tools`); the API and dev-identity are built (one cargo
//! build, its progress on one line); then dev-identity, the API and the SPA (`trunk serve`, with
//! a `config.json` written to `.dev/spa-{port}/`) run as child processes. The API and the SPA are
//! configured from the settings dev-identity prints. The URL to open is printed once the API is
//! ready and the SPA answers; Ctrl-C or SIGTERM stops everything; a part that dies stops the
//! others and its last lines say why.

mod identity;
mod output;
mod preflight;
mod process;
mod wiring;

use std::{
    io,
    path::{Path, PathBuf},
    process::{ExitCode, ExitStatus},
    time::Duration,
};

use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    process::Command,
    signal::unix::{Signal, SignalKind, signal},
    sync::mpsc::UnboundedReceiver,
    time::{Instant, sleep, timeout},
};

use self::{
    identity::{Settings, TokenVersion},
    output::Shown,
    process::{Part, Parts},
    wiring::Ports,
};
use crate::{
    step::{self, Interrupted, Runner, Step, say},
    tools::{self, Missing},
};

/// Longest wait for the API's `/ready` (it loads the provider's keys at start).
const API_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for the SPA: its first build compiles the app for wasm32, minutes on 2 cores.
const SPA_READY_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How often the wait for the SPA's first build says how far it got.
const SPA_PROGRESS: Duration = Duration::from_secs(30);
/// How long the parts get to exit after SIGTERM (the API gives requests in flight 10 s).
const STOP_GRACE: Duration = Duration::from_secs(15);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port of the API.
    #[arg(long, default_value_t = 8000, value_parser = clap::value_parser!(u16).range(1..))]
    api_port: u16,
    /// Port of dev-identity, the local stand-in for Entra ID.
    #[arg(long, default_value_t = 8081, value_parser = clap::value_parser!(u16).range(1..))]
    identity_port: u16,
    /// Port of the SPA (`trunk serve`); registered as its redirect URI either way.
    #[arg(long, default_value_t = 8080, value_parser = clap::value_parser!(u16).range(1..))]
    spa_port: u16,
    /// Start dev-identity and the API only (no trunk, no browser toolchain needed).
    #[arg(long)]
    no_spa: bool,
    /// Access token version: 1 (Entra's default) or 2 (`accessTokenAcceptedVersion: 2`).
    #[arg(long, value_enum, default_value = "1")]
    access_token_version: TokenVersion,
    /// Run this API executable (e.g. target/release/backend) instead of building the debug one.
    #[arg(long, value_name = "PATH")]
    api_binary: Option<PathBuf>,
    /// Run this dev-identity executable instead of building the debug one.
    #[arg(long, value_name = "PATH")]
    identity_binary: Option<PathBuf>,
    /// Show the builds' and the SPA's compiler output as it comes.
    #[arg(long, short)]
    verbose: bool,
}

/// What was decided before anything starts.
#[derive(Debug)]
struct Plan {
    ports: Ports,
    spa: bool,
    verbose: bool,
    access_token_version: TokenVersion,
    root: PathBuf,
    api_binary: PathBuf,
    identity_binary: PathBuf,
}

impl Plan {
    /// Where the parts' generated files go; the API runs here too, away from `backend/.env`.
    fn dev_dir(&self) -> PathBuf {
        self.root.join(".dev")
    }

    /// The SPA's own folder (its `config.json` and its build), one per SPA port: a second stack,
    /// or the tests, never write this one's config, and `trunk serve` never overwrites `dist/`,
    /// the release build the e2e tests serve. Generated, so it goes when the stack stops.
    fn spa_dir(&self) -> PathBuf {
        self.dev_dir().join(format!("spa-{}", self.ports.spa))
    }
}

pub fn run(args: &Args) -> Result<ExitCode, String> {
    let ports = Ports::new(args.api_port, args.identity_port, args.spa_port)?;
    preflight::check(&ports, !args.no_spa)?;
    tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(prepare_and_run(args, ports))
}

async fn prepare_and_run(args: &Args, ports: Ports) -> Result<ExitCode, String> {
    // One folder of logs per stack (by its API port): two stacks never share a build log.
    let runner = Runner::new(&format!("dev/{}", ports.api), args.verbose)?;
    if !args.no_spa {
        match tools::ensure(&runner, tools::BROWSER_BUILD).await {
            Ok(_) => {}
            Err(Missing::Tools(fixes)) => {
                return Err(preflight::refusal(&fixes).unwrap_or_default());
            }
            Err(Missing::Interrupted) => return Ok(interrupted()),
        }
    }
    let root = crate::workspace_root();
    let (api_binary, identity_binary) = match build(&runner, args).await {
        Ok(binaries) => binaries,
        Err(Built::Failed(message)) => return Err(message),
        Err(Built::Interrupted) => return Ok(interrupted()),
    };
    let plan = Plan {
        ports,
        spa: !args.no_spa,
        verbose: args.verbose,
        access_token_version: args.access_token_version,
        root,
        api_binary,
        identity_binary,
    };
    up(&plan).await
}

/// Ctrl-C during an install or the build: it stopped, and so does the command.
fn interrupted() -> ExitCode {
    say("xtask dev: stopped on SIGINT before the stack started");
    ExitCode::from(Stop::Interrupt.exit_code())
}

/// Why the build gave no executables.
enum Built {
    Failed(String),
    Interrupted,
}

/// The API's and dev-identity's executables: given with `--api-binary`/`--identity-binary`, or
/// built by one `cargo build`, so nothing starts while a compile runs.
async fn build(runner: &Runner, args: &Args) -> Result<(PathBuf, PathBuf), Built> {
    let given = |path: &Option<PathBuf>, flag: &str| -> Result<Option<PathBuf>, Built> {
        match path {
            // Absolute: the API runs in `.dev/`, where a relative path would name nothing.
            Some(path) if path.is_file() => std::path::absolute(path)
                .map(Some)
                .map_err(|e| Built::Failed(format!("{flag} {}: {e}", path.display()))),
            Some(path) => Err(Built::Failed(format!(
                "{flag} {}: no such file",
                path.display()
            ))),
            None => Ok(None),
        }
    };
    let api = given(&args.api_binary, "--api-binary")?;
    let identity = given(&args.identity_binary, "--identity-binary")?;
    let mut bins: Vec<&str> = Vec::new();
    if api.is_none() {
        bins.extend(["--bin", "backend"]);
    }
    if identity.is_none() {
        bins.extend(["--bin", "dev-identity"]);
    }
    if bins.is_empty() {
        return Ok((api.unwrap_or_default(), identity.unwrap_or_default()));
    }
    let step = Step::cargo("build the API and dev-identity", &["build"])
        .args(&bins)
        .args(["--message-format=json-render-diagnostics"]);
    let report = runner
        .run("xtask dev:", &step)
        .await
        .map_err(|Interrupted| Built::Interrupted)?;
    if !report.passed() {
        return Err(Built::Failed(
            "the build failed (its errors are above)".into(),
        ));
    }
    let log = std::fs::read_to_string(&report.log).unwrap_or_default();
    let found = |name: &str| {
        built_executable(&log, name)
            .ok_or_else(|| Built::Failed(format!("cargo build reported no {name} executable")))
    };
    let api = match api {
        Some(path) => path,
        None => found("backend")?,
    };
    let identity = match identity {
        Some(path) => path,
        None => found("dev-identity")?,
    };
    Ok((api, identity))
}

/// The executable of binary `name` in cargo's JSON messages.
fn built_executable(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
        .filter(|line| line.starts_with('{'))
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == name)
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
}

/// Why the stack ended.
enum Outcome {
    /// SIGINT (Ctrl-C) or SIGTERM: the way to end it.
    Requested(Stop),
    /// A part exited by itself or did not start; the message says which and why.
    Failed(String),
}

async fn up(plan: &Plan) -> Result<ExitCode, String> {
    let mut signals = StopSignals::listen().map_err(|e| format!("cannot catch signals: {e}"))?;
    process::adopt_orphans().map_err(|e| format!("cannot become the parts' subreaper: {e}"))?;
    let mut parts = Parts::default();
    let outcome = supervise(plan, &mut parts, &mut signals).await;
    let killed = parts.stop(STOP_GRACE).await;
    if plan.spa {
        remove_generated(&plan.spa_dir());
    }
    conclude(outcome, &killed)
}

/// Starts the parts, prints the summary once they answer, and waits for a stop signal or an
/// exit.
async fn supervise(plan: &Plan, parts: &mut Parts, signals: &mut StopSignals) -> Outcome {
    let spa = Shown::trunk(plan.verbose);
    let mut lines = match start_identity(plan, parts) {
        Ok(lines) => lines,
        Err(message) => return Outcome::Failed(message),
    };
    let settings = tokio::select! {
        settings = identity::settings(&mut lines) => match settings {
            Ok(settings) => settings,
            Err(message) => {
                // It exited: its own last lines say why.
                if let Ok((part, status)) = timeout(Duration::from_secs(2), parts.first_exit()).await {
                    return Outcome::Failed(died(part, status).await);
                }
                return Outcome::Failed(message);
            }
        },
        stop = signals.next() => return Outcome::Requested(stop),
        (part, status) = parts.first_exit() => return Outcome::Failed(died(part, status).await),
    };
    if let Err(message) = start_others(plan, parts, &settings, &spa) {
        return Outcome::Failed(message);
    }
    tokio::select! {
        ready = wait_until_ready(plan, &spa) => if let Err(message) = ready {
            return Outcome::Failed(message);
        },
        stop = signals.next() => return Outcome::Requested(stop),
        (part, status) = parts.first_exit() => return Outcome::Failed(died(part, status).await),
    }
    println!("{}", summary(plan, &settings));
    tokio::select! {
        stop = signals.next() => Outcome::Requested(stop),
        (part, status) = parts.first_exit() => Outcome::Failed(died(part, status).await),
    }
}

/// A path as the user knows it: relative to the repository when it is inside.
fn shown_path(plan: &Plan, path: &Path) -> String {
    path.strip_prefix(&plan.root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// dev-identity, first: the others are configured from the settings it prints.
fn start_identity(plan: &Plan, parts: &mut Parts) -> Result<UnboundedReceiver<String>, String> {
    let dev_dir = plan.dev_dir();
    std::fs::create_dir_all(&dev_dir)
        .map_err(|e| format!("cannot create {}: {e}", dev_dir.display()))?;
    let mut provider = Command::new(&plan.identity_binary);
    provider
        .args(identity::arguments(&plan.ports, plan.access_token_version))
        .current_dir(&dev_dir);
    let title = format!("dev-identity ({})", shown_path(plan, &plan.identity_binary));
    parts.start_watched("identity", title, provider)
}

/// The API and the SPA, configured for the running dev-identity.
fn start_others(
    plan: &Plan,
    parts: &mut Parts,
    settings: &Settings,
    spa: &Shown,
) -> Result<(), String> {
    let dev_dir = plan.dev_dir();
    let mut api = Command::new(&plan.api_binary);
    let inherited = std::env::vars_os().map(|(name, _)| name);
    for name in wiring::foreign_azure_variables(inherited) {
        api.env_remove(name);
    }
    api.envs(wiring::api_environment(
        &plan.ports,
        settings.api_environment.clone(),
    ))
    // Not the repository: a backend/.env there is a real tenant's (setup.sh writes it).
    .current_dir(&dev_dir);
    let title = format!("the API ({})", shown_path(plan, &plan.api_binary));
    parts.start("api", title, api, &Shown::all())?;

    if plan.spa {
        let spa_dir = plan.spa_dir();
        std::fs::create_dir_all(&spa_dir)
            .map_err(|e| format!("cannot create {}: {e}", spa_dir.display()))?;
        let config = spa_dir.join("config.json");
        let json = wiring::spa_config(
            &plan.ports,
            &settings.authority,
            &settings.spa_client_id,
            &settings.api_client_id,
        );
        let json = serde_json::to_string_pretty(&json)
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        std::fs::write(&config, format!("{json}\n"))
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let mut trunk = Command::new("trunk");
        trunk
            .args(["serve", "--disable-address-lookup", "--port"])
            .arg(plan.ports.spa.to_string())
            .arg("--dist")
            .arg(spa_dir.join("dist"))
            .env("PATH", tools::search_path())
            .envs(tools::wasm_env())
            .env("SPA_CONFIG_FILE", &config)
            .current_dir(&plan.root);
        parts.start("spa", "the SPA (trunk serve)".into(), trunk, spa)?;
    }
    Ok(())
}

/// Removes a generated folder; a failure is reported, not fatal: everything has stopped already.
fn remove_generated(dir: &Path) {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            say(&format!(
                "xtask dev: could not remove {}: {e}",
                dir.display()
            ));
        }
        _ => {}
    }
}

/// Until the API is ready (it has the provider's keys) and the SPA answers; while the SPA's first
/// build runs, how far it got.
async fn wait_until_ready(plan: &Plan, spa: &Shown) -> Result<(), String> {
    wait_for(
        plan.ports.api,
        "/ready",
        "the API's /ready",
        API_READY_TIMEOUT,
        None,
    )
    .await?;
    if plan.spa {
        say(
            "xtask dev: the API is ready; waiting for the SPA's first build (minutes the first time)",
        );
        wait_for(plan.ports.spa, "/", "the SPA", SPA_READY_TIMEOUT, Some(spa)).await?;
    }
    Ok(())
}

/// Polls `GET path` on a loopback port until it answers 200, at most `limit`; with `progress`,
/// says every [`SPA_PROGRESS`] how many crates the SPA's build has compiled.
async fn wait_for(
    port: u16,
    path: &str,
    what: &str,
    limit: Duration,
    progress: Option<&Shown>,
) -> Result<(), String> {
    let started = Instant::now();
    let mut next_report = started + SPA_PROGRESS;
    loop {
        if answers_ok(port, path).await {
            return Ok(());
        }
        let now = Instant::now();
        if now > started + limit {
            return Err(format!(
                "{what} (http://127.0.0.1:{port}{path}) did not answer 200 within {} s",
                limit.as_secs()
            ));
        }
        if let Some(spa) = progress.filter(|_| now >= next_report) {
            next_report = now + SPA_PROGRESS;
            say(&format!(
                "xtask dev: the SPA's build: {} so far, {} crates compiled",
                step::duration(now - started),
                spa.compiled()
            ));
        }
        sleep(Duration::from_millis(200)).await;
    }
}

/// Whether `GET path` on 127.0.0.1:`port` answers 200 within 2 s. A plain HTTP/1.1 request on a
/// socket: the parts are on loopback, and an HTTP client crate (with its TLS stack) would be
/// compiled before the command could say anything (see docs/decisions.md).
async fn answers_ok(port: u16, path: &str) -> bool {
    let attempt = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut status_line = [0_u8; 12];
        stream.read_exact(&mut status_line).await.ok()?;
        Some(status_line.starts_with(b"HTTP/1.") && status_line.ends_with(b" 200"))
    };
    timeout(Duration::from_secs(2), attempt)
        .await
        .ok()
        .flatten()
        .unwrap_or(false)
}

/// The message for a part that exited by itself.
async fn died(part: &mut Part, status: ExitStatus) -> String {
    let lines = part.last_lines().await;
    let lines = if lines.is_empty() {
        "    (no output)".to_owned()
    } else {
        lines
            .iter()
            .map(|line| format!("    {} | {line}", part.name))
            .collect::<Vec<_>>()
            .join("\n")
    };
    format!(
        "{} exited ({status}); its last lines:\n{lines}\nthe other parts were stopped",
        part.title
    )
}

/// The one place that says where to go.
fn summary(plan: &Plan, settings: &Settings) -> String {
    let ports = &plan.ports;
    let open = if plan.spa {
        format!("  open        {}", ports.spa_url())
    } else {
        "  SPA         not started (--no-spa)".to_owned()
    };
    [
        String::new(),
        "Local stack running. DEVELOPMENT ONLY: dev-identity signs test users in without a password."
            .to_owned(),
        open,
        format!(
            "  API         {api}  (OpenAPI: {api}/api/openapi.json)",
            api = ports.api_url()
        ),
        format!(
            "  identity    {}  (dev-identity, access tokens v{})",
            settings.authority,
            plan.access_token_version.number()
        ),
        format!(
            "  desktop     client id {}  (dev-identity's public client, for MSAL and other native apps)",
            settings.public_client_id
        ),
        format!(
            "  test users  {}: pick one on the sign-in page, no password",
            settings.users
        ),
        "Press Ctrl-C to stop.".to_owned(),
    ]
    .join("\n")
}

/// The exit status and final message. A requested stop after which everything exited in time is
/// 128 + the signal number, as a shell reports a command ended by that signal; anything else is
/// an error.
fn conclude(outcome: Outcome, killed: &[String]) -> Result<ExitCode, String> {
    let mut problems = Vec::new();
    if let Outcome::Failed(message) = &outcome {
        problems.push(message.clone());
    }
    if !killed.is_empty() {
        problems.push(format!(
            "{} did not exit within {} s of SIGTERM and had to be killed",
            killed.join(" and "),
            STOP_GRACE.as_secs()
        ));
    }
    match outcome {
        Outcome::Requested(stop) if problems.is_empty() => {
            say(&format!(
                "xtask dev: stopped on {}; every part has exited",
                stop.name()
            ));
            Ok(ExitCode::from(stop.exit_code()))
        }
        _ => Err(problems.join("\n")),
    }
}

/// The two ways to ask the stack to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Interrupt,
    Terminate,
}

impl Stop {
    fn name(self) -> &'static str {
        match self {
            Stop::Interrupt => "SIGINT",
            Stop::Terminate => "SIGTERM",
        }
    }

    fn exit_code(self) -> u8 {
        match self {
            Stop::Interrupt => 128 + 2,
            Stop::Terminate => 128 + 15,
        }
    }
}

/// SIGINT and SIGTERM, caught from start-up on (instead of ending this process at once).
struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
}

impl StopSignals {
    fn listen() -> io::Result<Self> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> Stop {
        tokio::select! {
            _ = self.interrupt.recv() => Stop::Interrupt,
            _ = self.terminate.recv() => Stop::Terminate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_built_executable_in_cargos_messages() {
        let messages = r#"   Compiling shared v0.1.0
{"reason":"compiler-artifact","target":{"name":"shared"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"backend"},"executable":null}
{"reason":"compiler-artifact","target":{"name":"backend"},"executable":"/repo/target/debug/backend"}
{"reason":"build-finished","success":true}"#;
        assert_eq!(
            built_executable(messages, "backend"),
            Some(PathBuf::from("/repo/target/debug/backend"))
        );
        assert_eq!(built_executable("not json\n", "backend"), None);
    }

    #[test]
    fn a_requested_stop_exits_as_the_shell_reports_that_signal() {
        assert_eq!(
            conclude(Outcome::Requested(Stop::Interrupt), &[]),
            Ok(ExitCode::from(130))
        );
        assert_eq!(
            conclude(Outcome::Requested(Stop::Terminate), &[]),
            Ok(ExitCode::from(143))
        );
    }

    #[test]
    fn a_part_that_had_to_be_killed_or_died_is_an_error() {
        let killed = ["the SPA (trunk serve)".to_owned()];
        assert_eq!(
            conclude(Outcome::Requested(Stop::Interrupt), &killed),
            Err(
                "the SPA (trunk serve) did not exit within 15 s of SIGTERM and had to be killed"
                    .into()
            )
        );
        assert_eq!(
            conclude(Outcome::Failed("the API exited".into()), &[]),
            Err("the API exited".into())
        );
    }

    #[test]
    fn the_summary_shows_where_to_go_and_who_can_sign_in() {
        let plan = Plan {
            ports: Ports::new(8000, 8081, 8080).expect("ports"),
            spa: true,
            verbose: false,
            access_token_version: TokenVersion::V1,
            root: PathBuf::from("/repo"),
            api_binary: PathBuf::from("/repo/target/debug/backend"),
            identity_binary: PathBuf::from("/repo/target/debug/dev-identity"),
        };
        let settings = Settings {
            authority: "http://127.0.0.1:8081/7e570000-0000-4000-8000-000000000001".into(),
            spa_client_id: "7e570000-0000-4000-8000-000000000003".into(),
            public_client_id: "7e570000-0000-4000-8000-000000000004".into(),
            api_client_id: "7e570000-0000-4000-8000-000000000002".into(),
            api_environment: Vec::new(),
            users: "admin (Admin), guest (no role)".into(),
        };
        let text = summary(&plan, &settings);
        assert!(
            text.contains("\n  open        http://localhost:8080/\n"),
            "{text}"
        );
        assert!(text.contains("http://localhost:8000"), "{text}");
        assert!(
            text.contains("  identity    http://127.0.0.1:8081/7e570000-0000-4000-8000-000000000001  (dev-identity, access tokens v1)"),
            "{text}"
        );
        assert!(
            text.contains("  test users  admin (Admin), guest (no role): pick one"),
            "{text}"
        );
        assert!(text.ends_with("Press Ctrl-C to stop."));
    }

    #[tokio::test]
    async fn the_readiness_probe_wants_a_200() {
        use tokio::net::TcpListener;
        let serve = |answer: &'static str| async move {
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("listener");
            let port = listener.local_addr().expect("address").port();
            tokio::spawn(async move {
                while let Ok((mut socket, _)) = listener.accept().await {
                    let mut request = [0_u8; 512];
                    let _ = socket.read(&mut request).await;
                    let _ = socket.write_all(answer.as_bytes()).await;
                }
            });
            port
        };
        let ok = serve("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
        let not_ready = serve("HTTP/1.1 503 Service Unavailable\r\n\r\n").await;
        assert!(answers_ok(ok, "/ready").await);
        assert!(!answers_ok(not_ready, "/ready").await);
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("address")
            .port();
        assert!(!answers_ok(closed, "/ready").await);
    }
}
