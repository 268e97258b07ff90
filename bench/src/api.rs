//! The API process under test, and the database each run gives it.

use std::{
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use testkit::{CLIENT_ID, KeyServer, TENANT_ID, postgres::TestPostgres};

use crate::machine;

/// Where the API keeps tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Store {
    Memory,
    Sqlite,
    Postgres,
}

impl Store {
    pub fn name(self) -> &'static str {
        match self {
            Store::Memory => "memory",
            Store::Sqlite => "SQLite",
            Store::Postgres => "PostgreSQL",
        }
    }
}

/// Fresh databases for the runs: an SQLite file in a new temporary folder each, or a new
/// database in one throwaway PostgreSQL cluster started for the whole benchmark.
#[derive(Debug, Default)]
pub struct Databases {
    postgres: Option<TestPostgres>,
    created: u32,
}

/// One run's database, and what must live as long as the run.
#[derive(Debug)]
pub enum Database {
    Memory,
    Sqlite(tempfile::TempDir),
    Postgres(String),
}

impl Databases {
    pub fn create(&mut self, store: Store) -> Result<Database, String> {
        self.created += 1;
        Ok(match store {
            Store::Memory => Database::Memory,
            Store::Sqlite => Database::Sqlite(
                tempfile::tempdir().map_err(|e| format!("temp dir for SQLite: {e}"))?,
            ),
            Store::Postgres => {
                let cluster = self.postgres.get_or_insert_with(TestPostgres::start);
                let name = format!("bench{}", self.created);
                cluster.create_owner(&name, "bench-password", &name);
                Database::Postgres(cluster.url(&name, Some("bench-password"), &name))
            }
        })
    }
}

impl Database {
    pub fn url(&self) -> String {
        match self {
            Database::Memory => "memory:".into(),
            Database::Sqlite(dir) => format!("sqlite://{}/tasks.db", dir.path().display()),
            Database::Postgres(url) => url.clone(),
        }
    }
}

/// A started API.
#[derive(Debug)]
pub struct Api {
    child: Child,
    address: String,
}

impl Api {
    /// Starts `binary` on a free loopback port; its logs are discarded (the load would make
    /// them the bottleneck of this process, not of the API).
    pub fn start(
        binary: &Path,
        keys: &KeyServer,
        vars: &[(String, String)],
    ) -> Result<Self, String> {
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
            address: format!("http://127.0.0.1:{port}"),
        })
    }

    /// `http://host:port`.
    pub fn base(&self) -> &str {
        &self.address
    }

    /// Waits for `/ready` (bounded), then creates `tasks` tasks.
    pub async fn prepare(&self, token: &str, tasks: u32) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .no_proxy()
            .build()
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let ready = client.get(format!("{}/ready", self.address)).send().await;
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
                .post(format!("{}/api/tasks", self.address))
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

    /// User + system CPU time of the API so far. Divided by the requests served, it is the API's
    /// cost per request, which other load on the machine changes far less than requests/s.
    pub fn cpu_time(&self) -> Result<Duration, String> {
        machine::cpu_time(self.child.id()).ok_or_else(|| "the API is not running".into())
    }

    /// `VmHWM`: the most resident memory the process ever had.
    pub fn peak_rss_kib(&self) -> Result<u64, String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .map_err(|e| format!("read /proc status: {e}"))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| "no VmHWM in /proc status".into())
    }

    /// SIGTERM, then SIGKILL if it has not exited within 10 s.
    pub fn stop(mut self) {
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

impl Drop for Api {
    /// An API left running (an error in the middle of a run) is killed.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
