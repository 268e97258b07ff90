//! `cargo xtask bench`: the API's throughput on this machine, measured end to end.
//!
//! Builds the release `backend`, serves the test keys from an in-process stand-in for Entra ID,
//! starts the API pointed at it with the chosen task store (in memory, an SQLite file in a
//! temporary folder, or a throwaway PostgreSQL cluster), mints one valid token, loads
//! `GET /api/tasks` and then `POST /api/tasks` with `wrk` (2 threads, 32 connections; a Lua
//! script makes the POSTs) and prints requests/s, p99 latency, the API's peak RSS (`VmHWM`), the
//! API's CPU time per request and the machine's load average. Everything it starts is stopped
//! before it returns.
//!
//! A crate of its own, run by `cargo xtask bench`, so that xtask's other tasks do not compile the
//! test kit (and its TLS and PostgreSQL stand-ins) before they can start.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use testkit::{CLIENT_ID, KeyServer, TENANT_ID, TestKey, postgres::TestPostgres};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds of load per run.
    #[arg(long, default_value_t = 10)]
    duration: u32,
    /// Runs, each against a freshly started API.
    #[arg(long, default_value_t = 1)]
    runs: u32,
    /// Path of the GET load (`/api/tasks` is the reference; others help locate costs).
    #[arg(long, default_value = "/api/tasks")]
    path: String,
    /// Where the API keeps tasks.
    #[arg(long, value_enum, default_value_t = Store::Memory)]
    database: Store,
    /// Loads, in order: `get` (the GET path) and `post` (`POST /api/tasks`, one new task per
    /// request).
    #[arg(long, value_enum, value_delimiter = ',', default_value = "get,post")]
    load: Vec<Load>,
    /// Tasks in the store before the load (listed by every request).
    #[arg(long, default_value_t = 5)]
    tasks: u32,
    /// Extra API configuration, e.g. `--env TOKEN_CACHE_ENTRIES=0`.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Use the existing target/release/backend.
    #[arg(long)]
    no_build: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Store {
    Memory,
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Load {
    Get,
    Post,
}

/// wrk's request for the POST load (wrk runs it; see `wrk --help`, "-s").
const POST_SCRIPT: &str = r#"wrk.method = "POST"
wrk.body = '{"title":"benchmark task"}'
wrk.headers["Content-Type"] = "application/json"
"#;

/// A fresh database for one run, and what must live as long as the run.
enum RunDatabase {
    Memory,
    Sqlite(tempfile::TempDir),
    Postgres(TestPostgres),
}

impl RunDatabase {
    fn create(store: Store) -> Result<Self, String> {
        Ok(match store {
            Store::Memory => RunDatabase::Memory,
            Store::Sqlite => RunDatabase::Sqlite(
                tempfile::tempdir().map_err(|e| format!("temp dir for SQLite: {e}"))?,
            ),
            Store::Postgres => {
                let cluster = TestPostgres::start();
                cluster.create_owner("bench", "bench-password", "tasks");
                RunDatabase::Postgres(cluster)
            }
        })
    }

    fn url(&self) -> String {
        match self {
            RunDatabase::Memory => "memory:".into(),
            RunDatabase::Sqlite(dir) => format!("sqlite://{}/tasks.db", dir.path().display()),
            RunDatabase::Postgres(cluster) => cluster.url("bench", Some("bench-password"), "tasks"),
        }
    }
}

fn parse_var(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("{text:?}: expected NAME=VALUE"))
}

/// What one run measured.
#[derive(Debug)]
struct Figures {
    requests_per_sec: f64,
    requests: u64,
    p99: String,
    peak_rss_kib: u64,
    /// CPU time the API used during the load (user + system).
    api_cpu: Duration,
    /// The machine's 1-minute load average when the load ended.
    load_average: String,
    errors: Option<String>,
}

pub fn run(args: &Args) -> Result<(), String> {
    crate::find_on_path("wrk").ok_or("wrk is not installed: apt-get install -y wrk")?;
    let root = crate::workspace_root();
    if !args.no_build {
        build_release(&root)?;
    }
    let binary = root.join("target/release/backend");
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
    std::fs::write(script.path(), POST_SCRIPT).map_err(|e| format!("wrk script: {e}"))?;

    println!(
        "store {:?}; wrk 2 threads, 32 connections, {}s per load; GET {} with {} tasks in the store, then POST /api/tasks",
        args.database, args.duration, args.path, args.tasks
    );
    for run in 1..=args.runs {
        let database = RunDatabase::create(args.database)?;
        let mut vars = vec![
            ("DATABASE_URL".to_owned(), database.url()),
            // The POST load creates a task per request: no 507 during the measurement.
            ("TASKS_MAX".to_owned(), "10000000".to_owned()),
        ];
        vars.extend(args.vars.iter().cloned());
        let mut api = Api::start(&binary, &keys, &vars)?;
        let result = runtime
            .block_on(api.prepare(&token, args.tasks))
            .and_then(|()| {
                args.load
                    .iter()
                    .map(|load| {
                        let (label, request) = match load {
                            Load::Get => (format!("GET {}", args.path), Request::Get(&args.path)),
                            Load::Post => {
                                ("POST /api/tasks".to_owned(), Request::Post(script.path()))
                            }
                        };
                        api.load(request, &token, args.duration)
                            .map(|figures| (label, figures))
                    })
                    .collect::<Result<Vec<_>, String>>()
            });
        api.stop();
        for (label, figures) in result? {
            let cpu_per_request =
                figures.api_cpu.as_secs_f64() * 1e6 / figures.requests.max(1) as f64;
            println!(
                "run {run}: {label}: {:.0} requests/s, p99 {}, peak RSS {:.1} MiB, API CPU {cpu_per_request:.1} µs/request, load average {}{}",
                figures.requests_per_sec,
                figures.p99,
                figures.peak_rss_kib as f64 / 1024.0,
                figures.load_average,
                figures.errors.map(|e| format!(", {e}")).unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// What one wrk load sends.
#[derive(Debug, Clone, Copy)]
enum Request<'a> {
    Get(&'a str),
    /// `POST /api/tasks`, made by this wrk script.
    Post(&'a Path),
}

/// The 1-minute load average of the machine (`/proc/loadavg`), to read figures against.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn build_release(root: &Path) -> Result<(), String> {
    let status = Command::new(crate::cargo())
        .args(["build", "--release", "--package", "backend"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("cargo build --release -p backend failed: {status}"))
}

/// The API process under test.
struct Api {
    child: Child,
    address: String,
}

impl Api {
    /// Starts the API on a free loopback port; its logs are discarded (the load would make
    /// them the bottleneck of this process, not of the API).
    fn start(binary: &Path, keys: &KeyServer, vars: &[(String, String)]) -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|e| format!("find a free port: {e}"))?
            .port();
        let child = Command::new(binary)
            .env_clear()
            .envs([
                ("AZURE_TENANT_ID", TENANT_ID),
                ("AZURE_API_CLIENT_ID", CLIENT_ID),
                ("AZURE_AUTHORITY_HOST", keys.authority_host()),
                ("BIND_ADDRESS", "127.0.0.1"),
                ("PORT", &port.to_string()),
                ("LOG_FORMAT", "json"),
            ])
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("start {}: {e}", binary.display()))?;
        Ok(Self {
            child,
            address: format!("127.0.0.1:{port}"),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Waits for `/ready` (bounded), then creates `tasks` tasks.
    async fn prepare(&self, token: &str, tasks: u32) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ready = client.get(self.url("/ready")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            if Instant::now() > deadline {
                return Err("the API was not ready within 15 s".into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for i in 0..tasks {
            let response = client
                .post(self.url("/api/tasks"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(json!({ "title": format!("benchmark task {i}") }).to_string())
                .send()
                .await
                .map_err(|e| format!("create a task: {e}"))?;
            if response.status().as_u16() != 201 {
                return Err(format!("create a task: status {}", response.status()));
            }
        }
        Ok(())
    }

    fn load(&self, request: Request<'_>, token: &str, seconds: u32) -> Result<Figures, String> {
        let cpu_before = self.cpu_time()?;
        let mut wrk = Command::new("wrk");
        wrk.args(["-t2", "-c32", &format!("-d{seconds}s"), "--latency"])
            .args(["-H", &format!("Authorization: Bearer {token}")]);
        match request {
            Request::Get(path) => wrk.arg(self.url(path)),
            Request::Post(script) => wrk.arg("-s").arg(script).arg(self.url("/api/tasks")),
        };
        let output = wrk.output().map_err(|e| format!("wrk: {e}"))?;
        let report = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(format!("wrk failed: {report}"));
        }
        let mut figures = parse_wrk(&report, self.peak_rss_kib()?)?;
        figures.api_cpu = self.cpu_time()?.saturating_sub(cpu_before);
        figures.load_average = load_average();
        Ok(figures)
    }

    /// User + system CPU time of the API so far (`/proc/<pid>/stat` fields 14 and 15). Divided by
    /// the requests served, it is the API's cost per request, which other load on the machine
    /// changes far less than requests/s.
    fn cpu_time(&self) -> Result<Duration, String> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .map_err(|e| format!("read /proc stat: {e}"))?;
        // Fields after the command name, which is in parentheses and may contain spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks: u64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i).and_then(|v| v.parse::<u64>().ok()))
            .sum();
        Ok(Duration::from_secs_f64(
            ticks as f64 / clock_ticks_per_second(),
        ))
    }

    /// `VmHWM`: the most resident memory the process ever had.
    fn peak_rss_kib(&self) -> Result<u64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .map_err(|e| format!("read /proc status: {e}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmHWM in /proc status".into())
    }

    /// SIGTERM, then SIGKILL if it has not exited within 10 s.
    fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `getconf CLK_TCK`, almost always 100.
fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Requests/s, the 99th percentile and any non-2xx or socket errors from wrk's `--latency` report.
fn parse_wrk(report: &str, peak_rss_kib: u64) -> Result<Figures, String> {
    let field = |prefix: &str| {
        report
            .lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(str::trim)
    };
    let requests_per_sec = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk's report:\n{report}"))?;
    let requests = report
        .lines()
        .find_map(|line| line.trim().split_once(" requests in "))
        .and_then(|(count, _)| count.trim().parse().ok())
        .ok_or_else(|| format!("no request count in wrk's report:\n{report}"))?;
    let p99 = field("99%")
        .ok_or_else(|| format!("no 99% latency in wrk's report:\n{report}"))?
        .to_owned();
    let errors = [field("Non-2xx or 3xx responses:"), field("Socket errors:")]
        .into_iter()
        .flatten()
        .map(str::to_owned)
        .reduce(|a, b| format!("{a}; {b}"))
        .map(|e| format!("errors: {e}"));
    Ok(Figures {
        requests_per_sec,
        requests,
        p99,
        peak_rss_kib,
        api_cpu: Duration::ZERO,
        load_average: String::new(),
        errors,
    })
}

#[derive(Debug, clap::Parser)]
#[command(
    bin_name = "cargo xtask bench",
    about = "Load-test GET and POST /api/tasks of the release API with wrk (any store) and report req/s, p99, peak RSS."
)]
struct Cli {
    #[command(flatten)]
    args: Args,
}

fn main() -> std::process::ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    match run(&cli.args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask bench: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The workspace's root: the parent of this crate's directory.
fn workspace_root() -> std::path::PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// Where `program` is on `PATH`, if it is.
fn find_on_path(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

/// The cargo running this task (so a `cargo +toolchain xtask bench` builds with that toolchain).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 10s test @ http://127.0.0.1:1/api/tasks
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   800.00us  300.00us  10.00ms   90.00%
  Latency Distribution
     50%  700.00us
     75%  900.00us
     90%    1.20ms
     99%    2.50ms
  400000 requests in 10.00s, 100.00MB read
  Non-2xx or 3xx responses: 12
Requests/sec:  40000.00
Transfer/sec:     10.00MB
";

    #[test]
    fn reads_wrks_report() {
        let figures = parse_wrk(REPORT, 9000).expect("parse");
        assert!((figures.requests_per_sec - 40_000.0).abs() < f64::EPSILON);
        assert_eq!(figures.requests, 400_000);
        assert_eq!(figures.p99, "2.50ms");
        assert_eq!(figures.errors.as_deref(), Some("errors: 12"));
        assert!(parse_wrk("garbage", 1).is_err());
    }
}
