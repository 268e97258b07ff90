//! `cargo xtask dev`: the whole app on this machine, without an Azure tenant.
//!
//! dev-identity runs inside this process: the API's and the SPA's settings are read from the
//! running provider rather than re-derived, and it cannot outlive the command. The API (built
//! first, so nothing starts while a compile runs) and the SPA (`trunk serve`, with a
//! `config.json` written to `.dev/spa-{port}/`) are child processes. The URL to open is printed once the API
//! is ready and the SPA answers; Ctrl-C or SIGTERM stops everything; a part that dies stops the
//! others and its last lines say why.

mod output;
mod preflight;
mod process;
mod wiring;

use std::{
    io,
    path::{Path, PathBuf},
    process::{Command as StdCommand, ExitCode, ExitStatus, Stdio},
    time::Duration,
};

use dev_identity::{Provider, RunningProvider, TokenVersion};
use serde_json::Value;
use tokio::{
    process::Command,
    signal::unix::{Signal, SignalKind, signal},
    time::{Instant, sleep},
};
use tracing_subscriber::EnvFilter;

use self::{
    output::PartLog,
    process::{Part, Parts},
    wiring::Ports,
};

/// Longest wait for the API's `/ready` (it loads the provider's keys at start).
const API_READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest wait for the SPA: its first build compiles the app for wasm32, minutes on 2 cores.
const SPA_READY_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// How long the parts get to exit after SIGTERM (the API gives requests in flight 10 s).
const STOP_GRACE: Duration = Duration::from_secs(15);

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port of the API.
    #[arg(long, default_value_t = 8000, value_parser = clap::value_parser!(u16).range(1..))]
    api_port: u16,
    /// Port of dev-identity, the local stand-in for Entra ID.
    #[arg(long, default_value_t = dev_identity::DEFAULT_PORT, value_parser = clap::value_parser!(u16).range(1..))]
    identity_port: u16,
    /// Port of the SPA (`trunk serve`); registered as its redirect URI either way.
    #[arg(long, default_value_t = 8080, value_parser = clap::value_parser!(u16).range(1..))]
    spa_port: u16,
    /// Start dev-identity and the API only (no trunk, no browser toolchain needed).
    #[arg(long)]
    no_spa: bool,
    /// Access token version: 1 (Entra's default) or 2 (`accessTokenAcceptedVersion: 2`).
    #[arg(long, default_value = "1")]
    access_token_version: TokenVersion,
    /// Run this API executable (e.g. target/release/backend) instead of building the debug one.
    #[arg(long, value_name = "PATH")]
    api_binary: Option<PathBuf>,
}

/// What was decided before anything starts.
#[derive(Debug)]
struct Plan {
    ports: Ports,
    spa: bool,
    access_token_version: TokenVersion,
    root: PathBuf,
    api_binary: PathBuf,
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
    let root = crate::workspace_root();
    preflight::check(&root, &ports, !args.no_spa)?;
    let api_binary = match &args.api_binary {
        // Absolute: the API runs in `.dev/`, where a relative path would name nothing.
        Some(path) if path.is_file() => std::path::absolute(path)
            .map_err(|e| format!("--api-binary {}: {e}", path.display()))?,
        Some(path) => return Err(format!("--api-binary {}: no such file", path.display())),
        None => build_api(&root)?,
    };
    let plan = Plan {
        ports,
        spa: !args.no_spa,
        access_token_version: args.access_token_version,
        root,
        api_binary,
    };
    tokio::runtime::Runtime::new()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(up(&plan))
}

/// `cargo build --package backend`, so the API starts at once; returns the executable.
fn build_api(root: &Path) -> Result<PathBuf, String> {
    eprintln!("xtask dev: building the API (cargo build --package backend)");
    let output = StdCommand::new(crate::cargo())
        .args(["build", "--package", "backend", "--bin", "backend"])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !output.status.success() {
        return Err("cargo build --package backend failed (its errors are above)".into());
    }
    built_executable(&String::from_utf8_lossy(&output.stdout), "backend")
        .ok_or_else(|| "cargo build --package backend reported no backend executable".into())
}

/// The executable of binary `name` in cargo's JSON messages.
fn built_executable(messages: &str, name: &str) -> Option<PathBuf> {
    messages
        .lines()
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
    // Ignore an error: a subscriber is already set (nothing else in xtask sets one).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| "dev_identity=info".into()),
        )
        .with_writer(PartLog("identity"))
        .with_ansi(output::colors())
        .try_init();
    let provider = Provider::builder()
        .port(plan.ports.identity)
        .redirect_uris(plan.ports.spa_redirect_uris())
        .access_token_version(plan.access_token_version)
        .spawn()
        .await
        .map_err(|e| format!("dev-identity did not start: {e}"))?;
    let mut parts = Parts::default();
    let outcome = supervise(plan, &provider, &mut parts, &mut signals).await;
    let killed = parts.stop(STOP_GRACE).await;
    if plan.spa {
        remove_generated(&plan.spa_dir());
    }
    let provider = provider.shutdown().await;
    conclude(outcome, &killed, provider)
}

/// Starts the parts, prints the banner once they answer, and waits for a stop signal or an exit.
async fn supervise(
    plan: &Plan,
    provider: &RunningProvider,
    parts: &mut Parts,
    signals: &mut StopSignals,
) -> Outcome {
    if let Err(message) = start_parts(plan, provider, parts) {
        return Outcome::Failed(message);
    }
    tokio::select! {
        ready = wait_until_ready(plan) => if let Err(message) = ready {
            return Outcome::Failed(message);
        },
        stop = signals.next() => return Outcome::Requested(stop),
        (part, status) = parts.first_exit() => return Outcome::Failed(died(part, status).await),
    }
    println!("{}", banner(plan, provider));
    tokio::select! {
        stop = signals.next() => Outcome::Requested(stop),
        (part, status) = parts.first_exit() => Outcome::Failed(died(part, status).await),
    }
}

fn start_parts(plan: &Plan, provider: &RunningProvider, parts: &mut Parts) -> Result<(), String> {
    let dev_dir = plan.dev_dir();
    std::fs::create_dir_all(&dev_dir)
        .map_err(|e| format!("cannot create {}: {e}", dev_dir.display()))?;
    let mut api = Command::new(&plan.api_binary);
    let inherited = std::env::vars_os().map(|(name, _)| name);
    for name in wiring::foreign_azure_variables(inherited) {
        api.env_remove(name);
    }
    api.envs(wiring::api_environment(
        &plan.ports,
        provider.api_environment(),
    ))
    // Not the repository: a backend/.env there is a real tenant's (setup.sh writes it).
    .current_dir(&dev_dir);
    let shown = plan
        .api_binary
        .strip_prefix(&plan.root)
        .unwrap_or(&plan.api_binary);
    parts.start("api", format!("the API ({})", shown.display()), api)?;

    if plan.spa {
        let spa_dir = plan.spa_dir();
        std::fs::create_dir_all(&spa_dir)
            .map_err(|e| format!("cannot create {}: {e}", spa_dir.display()))?;
        let config = spa_dir.join("config.json");
        let json = wiring::spa_config(
            &plan.ports,
            provider.authority(),
            provider.spa_client_id(),
            provider.api_client_id(),
        );
        std::fs::write(&config, format!("{json:#}\n"))
            .map_err(|e| format!("cannot write {}: {e}", config.display()))?;
        let mut trunk = Command::new("trunk");
        trunk
            .args(["serve", "--port", &plan.ports.spa.to_string(), "--dist"])
            .arg(spa_dir.join("dist"))
            .env("SPA_CONFIG_FILE", &config)
            .current_dir(&plan.root);
        parts.start("spa", "the SPA (trunk serve)".into(), trunk)?;
    }
    Ok(())
}

/// Removes a generated folder; a failure is reported, not fatal: everything has stopped already.
fn remove_generated(dir: &Path) {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            eprintln!("xtask dev: could not remove {}: {e}", dir.display());
        }
        _ => {}
    }
}

/// Until the API is ready (it has the provider's keys) and the SPA answers.
async fn wait_until_ready(plan: &Plan) -> Result<(), String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .no_proxy()
        .build()
        .map_err(|e| format!("HTTP client: {e}"))?;
    let api = format!("http://127.0.0.1:{}/ready", plan.ports.api);
    wait_for(&http, &api, "the API's /ready", API_READY_TIMEOUT).await?;
    if plan.spa {
        eprintln!(
            "xtask dev: the API is ready; waiting for the SPA's first build (minutes the first time)"
        );
        let spa = format!("http://127.0.0.1:{}/", plan.ports.spa);
        wait_for(&http, &spa, "the SPA", SPA_READY_TIMEOUT).await?;
    }
    Ok(())
}

async fn wait_for(
    http: &reqwest::Client,
    url: &str,
    what: &str,
    limit: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        let answer = http.get(url).send().await;
        if answer.is_ok_and(|response| response.status().is_success()) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{what} ({url}) did not answer 200 within {} s",
                limit.as_secs()
            ));
        }
        sleep(Duration::from_millis(200)).await;
    }
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

fn banner(plan: &Plan, provider: &RunningProvider) -> String {
    let ports = &plan.ports;
    let open = if plan.spa {
        format!("  open        {}", ports.spa_url())
    } else {
        "  SPA         not started (--no-spa)".to_owned()
    };
    let version = match provider.access_token_version() {
        TokenVersion::V1 => 1,
        TokenVersion::V2 => 2,
    };
    let mut lines = vec![
        String::new(),
        "Local stack running. DEVELOPMENT ONLY: dev-identity signs test users in without a password."
            .to_owned(),
        open,
        format!(
            "  API         {api}  (OpenAPI: {api}/api/openapi.json)",
            api = ports.api_url()
        ),
        format!(
            "  identity    {}  (dev-identity, access tokens v{version})",
            provider.authority()
        ),
        "  test users  (the sign-in page lists them; no password)".to_owned(),
    ];
    for user in provider.users().iter() {
        let roles: Vec<&str> = user.roles().iter().map(|role| role.as_str()).collect();
        let roles = if roles.is_empty() {
            "no role".to_owned()
        } else {
            roles.join(", ")
        };
        lines.push(format!(
            "    {:<10} {:<14} {:<24} {roles}",
            user.name(),
            user.display_name(),
            user.username()
        ));
    }
    lines.push("Press Ctrl-C to stop.".to_owned());
    lines.join("\n")
}

/// The exit status and final message. A requested stop after which everything exited in time is
/// 128 + the signal number, as a shell reports a command ended by that signal; anything else is
/// an error.
fn conclude(
    outcome: Outcome,
    killed: &[String],
    provider: io::Result<()>,
) -> Result<ExitCode, String> {
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
    if let Err(err) = provider {
        problems.push(format!("dev-identity did not stop cleanly: {err}"));
    }
    match outcome {
        Outcome::Requested(stop) if problems.is_empty() => {
            eprintln!(
                "xtask dev: stopped on {}; every part has exited",
                stop.name()
            );
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
        let messages = r#"{"reason":"compiler-artifact","target":{"name":"shared"},"executable":null}
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
            conclude(Outcome::Requested(Stop::Interrupt), &[], Ok(())),
            Ok(ExitCode::from(130))
        );
        assert_eq!(
            conclude(Outcome::Requested(Stop::Terminate), &[], Ok(())),
            Ok(ExitCode::from(143))
        );
    }

    #[test]
    fn a_part_that_had_to_be_killed_or_died_is_an_error() {
        let killed = ["the SPA (trunk serve)".to_owned()];
        assert_eq!(
            conclude(Outcome::Requested(Stop::Interrupt), &killed, Ok(())),
            Err(
                "the SPA (trunk serve) did not exit within 15 s of SIGTERM and had to be killed"
                    .into()
            )
        );
        assert_eq!(
            conclude(Outcome::Failed("the API exited".into()), &[], Ok(())),
            Err("the API exited".into())
        );
    }

    #[tokio::test]
    async fn the_banner_shows_where_to_go_and_who_can_sign_in() {
        let provider = Provider::builder().spawn().await.expect("provider");
        let plan = Plan {
            ports: Ports::new(8000, 8081, 8080).expect("ports"),
            spa: true,
            access_token_version: TokenVersion::V1,
            root: PathBuf::from("/repo"),
            api_binary: PathBuf::from("/repo/target/debug/backend"),
        };
        let text = banner(&plan, &provider);
        assert!(
            text.contains("  open        http://localhost:8080/\n"),
            "{text}"
        );
        assert!(text.contains("http://localhost:8000"), "{text}");
        assert!(text.contains(provider.authority()), "{text}");
        for user in [
            "admin      Test Admin     admin@dev.localhost      Admin",
            "guest      Test Guest     guest@dev.localhost      no role",
        ] {
            assert!(text.contains(user), "{user} in {text}");
        }
        assert!(text.ends_with("Press Ctrl-C to stop."));
    }
}
