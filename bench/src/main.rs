//! `cargo xtask bench`: the API's throughput on this machine, measured end to end, for every
//! task store side by side.
//!
//! Builds the release `backend`, serves the test keys from an in-process stand-in for Entra ID,
//! mints one valid token, then runs rounds: in each, every store in turn (in memory, an SQLite
//! file in a temporary folder, a database in a throwaway PostgreSQL cluster) gets a freshly
//! started API with a fresh database, a few tasks, then `GET /api/tasks` and `POST
//! /api/tasks` loads from `wrk` (2 threads, 32 connections). Measuring the stores alternately in
//! the same run keeps the machine's drift out of their ratios. It prints each load as it ends,
//! then the medians as a Markdown table with each store's throughput as a ratio of the in-memory
//! store's, SQLite's targets, and what else used the CPU meanwhile. Everything it starts is
//! stopped before it returns.
//!
//! A crate of its own, run by `cargo xtask bench`, so that xtask's other tasks do not compile the
//! test kit (and its TLS and PostgreSQL stand-ins) before they can start.

mod api;
mod machine;
mod report;
mod wrk;

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
    time::{Duration, Instant},
};

use clap::Parser;
use serde_json::json;
use testkit::{KeyServer, TestKey};

use crate::{
    api::{Api, Databases, Store},
    report::{Contender, Measurement},
    wrk::Request,
};

#[derive(Debug, Parser)]
#[command(
    bin_name = "cargo xtask bench",
    about = "Load-test GET and POST /api/tasks of the release API with wrk, for every task store alternately, and report req/s (as a ratio of the in-memory store's), p99, CPU and peak RSS."
)]
struct Args {
    /// Task stores to measure, one after the other in every round.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "memory,sqlite,postgres"
    )]
    stores: Vec<Store>,
    /// Rounds; each measures every store once, against a freshly started API and database.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Seconds of each load.
    #[arg(long, default_value_t = 8)]
    duration: u32,
    /// Loads, in order: `get` (the GET path) and `post` (`POST /api/tasks`, one new task per
    /// request).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "get,post")]
    load: Vec<Load>,
    /// Path of the GET load (`/api/tasks` is the reference; others help locate costs).
    #[arg(long, default_value = "/api/tasks")]
    path: String,
    /// Tasks in the store before the loads (listed by every GET).
    #[arg(long, default_value_t = 5)]
    tasks: u32,
    /// Extra API configuration, e.g. `--env TOKEN_CACHE_ENTRIES=0`.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Also measure every store on this API binary (e.g. a release build of another commit),
    /// alternately with the others: an A/B comparison in one run.
    #[arg(long, value_name = "BINARY")]
    compare: Option<PathBuf>,
    /// Use the existing target/release/backend.
    #[arg(long)]
    no_build: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Load {
    Get,
    Post,
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?}: expected NAME=VALUE"))
}

fn main() -> ExitCode {
    match run(&Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask bench: {message}");
            ExitCode::FAILURE
        }
    }
}

/// What every run shares.
struct Setup {
    runtime: tokio::runtime::Runtime,
    keys: KeyServer,
    token: String,
    script: tempfile::NamedTempFile,
}

fn run(args: &Args) -> Result<(), String> {
    find_on_path("wrk").ok_or("wrk is not installed: apt-get install -y wrk")?;
    if args.stores.is_empty() || args.load.is_empty() || args.rounds == 0 {
        return Err("nothing to measure: give --stores, --load and --rounds".into());
    }
    let root = workspace_root();
    if !args.no_build {
        build_release(&root)?;
    }
    let binary = root.join("target/release/backend");
    let setup = Setup::new()?;
    let mut contenders: Vec<(Contender, &Path)> = args
        .stores
        .iter()
        .map(|&store| {
            let contender = Contender {
                store,
                compared: None,
            };
            (contender, binary.as_path())
        })
        .collect();
    if let Some(other) = &args.compare {
        let label = other.display().to_string();
        contenders.extend(args.stores.iter().map(|&store| {
            let contender = Contender {
                store,
                compared: Some(label.clone()),
            };
            (contender, other.as_path())
        }));
    }
    let loads: Vec<(String, Request<'_>)> = args
        .load
        .iter()
        .map(|load| match load {
            Load::Get => (format!("GET {}", args.path), Request::Get(&args.path)),
            Load::Post => (
                "POST /api/tasks".to_owned(),
                Request::Post(setup.script.path()),
            ),
        })
        .collect();

    println!(
        "{} at {}; {}; load average {}",
        today(),
        commit(&root),
        machine::processors(),
        machine::load_average()
    );
    println!(
        "{} round(s); in each, every store alternately: a fresh API and database, {} tasks, then {} for {} s each (wrk -t{} -c{})",
        args.rounds,
        args.tasks,
        loads
            .iter()
            .map(|(label, _)| label.as_str())
            .collect::<Vec<_>>()
            .join(" and "),
        args.duration,
        wrk::THREADS,
        wrk::CONNECTIONS,
    );
    let started = Instant::now();
    let sampler = machine::Sampler::start();
    let mut databases = Databases::default();
    let mut measurements = Vec::new();
    for round in 0..args.rounds as usize {
        // Each round starts with the next contender, so none always runs first.
        for i in 0..contenders.len() {
            let (contender, binary) = &contenders[(round + i) % contenders.len()];
            for measurement in measure(args, &setup, &mut databases, contender, binary, &loads)? {
                print_measurement(round + 1, &measurement);
                measurements.push(measurement);
            }
        }
    }
    drop(databases);
    let others = sampler.stop();
    let elapsed = started.elapsed();

    let order: Vec<Contender> = contenders.iter().map(|(c, _)| c.clone()).collect();
    let labels: Vec<String> = loads.iter().map(|(label, _)| label.clone()).collect();
    let rows = report::summarize(&measurements, &order, &labels);
    println!(
        "\nMedians of {} round(s), wrk -t{} -c{}, {} s per load:\n",
        args.rounds,
        wrk::THREADS,
        wrk::CONNECTIONS,
        args.duration
    );
    print!("{}", report::table(&rows));
    println!();
    for line in report::targets(&rows) {
        println!("{line}");
    }
    println!(
        "\nBeside the benchmark ({:.0} s, load average {} at the end), other processes used {}",
        elapsed.as_secs_f64(),
        machine::load_average(),
        describe_others(&others, elapsed)
    );
    Ok(())
}

impl Setup {
    fn new() -> Result<Self, String> {
        let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("tokio runtime: {e}"))?;
        let key = TestKey::primary();
        let keys = runtime.block_on(KeyServer::start(&[&key]));
        let mut claims = keys.claims("bench-user", &["Editor"]);
        claims["exp"] = json!(testkit::now() + 4 * 3600);
        let token = testkit::sign(&key, &claims);
        let script = tempfile::Builder::new()
            .suffix(".lua")
            .tempfile()
            .map_err(|e| format!("wrk script: {e}"))?;
        std::fs::write(script.path(), wrk::POST_SCRIPT).map_err(|e| format!("wrk script: {e}"))?;
        Ok(Self {
            runtime,
            keys,
            token,
            script,
        })
    }
}

/// Every load of one contender, on a freshly started API with a fresh database.
fn measure(
    args: &Args,
    setup: &Setup,
    databases: &mut Databases,
    contender: &Contender,
    binary: &Path,
    loads: &[(String, Request<'_>)],
) -> Result<Vec<Measurement>, String> {
    let database = databases.create(contender.store)?;
    let mut vars = vec![
        ("DATABASE_URL".to_owned(), database.url()),
        // The POST load creates a task per request: no 507 during the measurement.
        ("TASKS_MAX".to_owned(), "10000000".to_owned()),
    ];
    vars.extend(args.vars.iter().cloned());
    let api = Api::start(binary, &setup.keys, &vars)?;
    setup
        .runtime
        .block_on(api.prepare(&setup.token, args.tasks))?;
    let mut measurements = Vec::new();
    for (label, request) in loads {
        let cpu_before = api.cpu_time()?;
        let wrk = wrk::run(api.base(), *request, &setup.token, args.duration)?;
        let cpu = api.cpu_time()?.saturating_sub(cpu_before);
        measurements.push(Measurement {
            contender: contender.clone(),
            load: label.clone(),
            cpu_per_request: cpu / u32::try_from(wrk.requests.max(1)).unwrap_or(u32::MAX),
            peak_rss_kib: api.peak_rss_kib()?,
            wrk,
        });
    }
    api.stop();
    Ok(measurements)
}

fn print_measurement(round: usize, m: &Measurement) {
    println!(
        "round {round}: {}: {}: {:.0} requests/s, p99 {:.2} ms, API CPU {:.1} µs/request, peak RSS {:.1} MiB, load average {}{}",
        m.contender.label(),
        m.load,
        m.wrk.requests_per_sec,
        m.wrk.p99.as_secs_f64() * 1e3,
        m.cpu_per_request.as_secs_f64() * 1e6,
        m.peak_rss_kib as f64 / 1024.0,
        machine::load_average(),
        m.wrk
            .errors
            .as_ref()
            .map(|e| format!(", errors: {e}"))
            .unwrap_or_default()
    );
}

/// `rustc 120.0 s (0.80 CPU), cc 10.1 s (0.07 CPU), …` for the five largest.
fn describe_others(others: &[(String, Duration)], elapsed: Duration) -> String {
    if others.is_empty() {
        return "no measurable CPU".into();
    }
    let total: Duration = others.iter().map(|(_, cpu)| *cpu).sum();
    let cpus = |cpu: Duration| cpu.as_secs_f64() / elapsed.as_secs_f64().max(1e-9);
    let top: Vec<String> = others
        .iter()
        .take(5)
        .map(|(name, cpu)| format!("{name} {:.1} s ({:.2} CPU)", cpu.as_secs_f64(), cpus(*cpu)))
        .collect();
    format!(
        "{:.1} CPU-seconds, {:.2} CPUs on average: {}",
        total.as_secs_f64(),
        cpus(total),
        top.join(", ")
    )
}

fn build_release(root: &Path) -> Result<(), String> {
    let status = Command::new(cargo())
        .args(["build", "--release", "--package", "backend"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("cargo build --release -p backend failed: {status}"))
}

/// `git describe`-like: the short commit, with `+changes` when the tree differs from it.
fn commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "--short", "HEAD"]) {
        Some(commit) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|status| !status.is_empty());
            format!("commit {commit}{}", if dirty { "+changes" } else { "" })
        }
        None => "an unknown commit".into(),
    }
}

/// Today's date (UTC), from `date`.
fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The workspace's root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Where `program` is on `PATH`, if it is.
fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The cargo running this task (so a `cargo +toolchain xtask bench` builds with that toolchain).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}
