//! A throwaway PostgreSQL cluster for tests, made with this machine's server binaries
//! (`initdb`, `pg_ctl`, `postgres`): its own temporary data folder, a free loopback port, no
//! Unix socket, stopped and deleted when dropped (also when the test panics).
//!
//! The superuser `postgres` signs in without a password (trust, for the tests' own set-up);
//! every other role needs its password (SCRAM), so the API's password and token paths are real.
//! PostgreSQL refuses to run as root: when the tests run as root, the server runs as the
//! `postgres` user (which Debian's `postgresql` package creates) through `runuser`.

use std::{
    fs,
    net::TcpListener,
    os::unix::fs::chown,
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// The user the server runs as when the tests run as root.
const SERVER_USER: &str = "postgres";
/// Start attempts, each on a new free port (another process may take the port first).
const START_ATTEMPTS: u32 = 3;

#[derive(Debug)]
pub struct TestPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// `Some(user)` when commands must run as that user.
    run_as: Option<&'static str>,
    running: bool,
}

impl TestPostgres {
    /// Initializes and starts a cluster. Panics, saying what to install, when the PostgreSQL
    /// server binaries are missing: a storage test must never pass without its database.
    pub fn start() -> Self {
        let bin = server_binaries();
        let run_as = (current_uid() == 0).then_some(SERVER_USER);
        let dir = tempfile::Builder::new()
            .prefix("test-postgres-")
            .tempdir()
            .expect("temp dir for PostgreSQL");
        if let Some(user) = run_as {
            let (uid, gid) = user_ids(user);
            chown(dir.path(), Some(uid), Some(gid)).expect("give the data folder to postgres");
        }
        let mut cluster = TestPostgres {
            bin,
            dir,
            port: 0,
            run_as,
            running: false,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data().display().to_string(),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        fs::write(
            cluster.data().join("pg_hba.conf"),
            "# TYPE  DATABASE  USER      ADDRESS       METHOD\n\
             host    all       postgres  127.0.0.1/32  trust\n\
             host    all       all       127.0.0.1/32  scram-sha-256\n",
        )
        .expect("write pg_hba.conf");
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            cluster.port = free_port();
            match cluster.try_start() {
                Ok(()) => return cluster,
                Err(log) => failures.push(log),
            }
        }
        panic!(
            "PostgreSQL did not start in {START_ATTEMPTS} attempts:\n{}",
            failures.join("\n---\n")
        );
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `postgres://user[:password]@127.0.0.1:port/database`.
    pub fn url(&self, user: &str, password: Option<&str>, database: &str) -> String {
        let password = password.map(|p| format!(":{p}")).unwrap_or_default();
        format!(
            "postgres://{user}{password}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// Runs `sql` in `database` as the superuser (with `psql`), returning the unaligned output;
    /// panics with psql's message when it fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1"])
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-U", "postgres", "-d", database, "-c", sql])
            .env_remove("PGPASSWORD")
            .output()
            .expect("run psql");
        assert!(
            output.status.success(),
            "psql {sql:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A role that signs in with `password`, owning a new database `database`.
    pub fn create_owner(&self, role: &str, password: &str, database: &str) {
        self.psql(
            "postgres",
            &format!("CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"),
        );
        self.psql(
            "postgres",
            &format!("CREATE DATABASE \"{database}\" OWNER \"{role}\""),
        );
    }

    /// Stops the server at once (as a crash would); [`TestPostgres::restart`] brings it back
    /// on the same port with the same data.
    pub fn stop(&mut self) {
        if self.running {
            self.pg_ctl(&["stop", "-m", "immediate"]);
            self.running = false;
        }
    }

    pub fn restart(&mut self) {
        if let Err(log) = self.try_start() {
            panic!("PostgreSQL did not restart:\n{log}");
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn try_start(&mut self) -> Result<(), String> {
        let log = self.dir.path().join("server.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=40",
            self.port
        );
        let output = self.pg_ctl(&[
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            &log.display().to_string(),
            "-o",
            &options,
        ]);
        if output.status.success() {
            self.running = true;
            Ok(())
        } else {
            Err(format!(
                "{}{}",
                String::from_utf8_lossy(&output.stderr),
                fs::read_to_string(&log).unwrap_or_default()
            ))
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Output {
        let data = self.data().display().to_string();
        let mut all = vec!["-D", data.as_str()];
        all.extend_from_slice(args);
        self.command("pg_ctl", &all).output().expect("run pg_ctl")
    }

    /// Runs a server binary (as the server user when needed) and panics if it fails.
    fn run(&self, program: &str, args: &[&str]) {
        let output = self.command(program, args).output().expect(program);
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn command(&self, program: &str, args: &[&str]) -> Command {
        let path = self.bin.join(program);
        let mut command = match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        };
        // The server's working directory must be one it may enter.
        command.args(args).current_dir(self.dir.path());
        command
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The folder with `initdb`, `pg_ctl`, `postgres` and `psql`: `PG_BIN_DIR`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian, Ubuntu), else the folder of `pg_ctl` on `PATH`.
fn server_binaries() -> PathBuf {
    let complete = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres", "psql"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(dir) = std::env::var_os("PG_BIN_DIR").map(PathBuf::from) {
        assert!(
            complete(&dir),
            "PG_BIN_DIR={} lacks initdb, pg_ctl, postgres or psql",
            dir.display()
        );
        return dir;
    }
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, dir)| complete(dir))
        .collect();
    debian.sort();
    if let Some((_, dir)) = debian.pop() {
        return dir;
    }
    let on_path = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).find(|dir| complete(dir)));
    on_path.unwrap_or_else(|| {
        panic!(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres, psql) not found: the storage tests \
             need them. Install them (Debian/Ubuntu: apt-get install postgresql) or set PG_BIN_DIR \
             to their folder."
        )
    })
}

fn current_uid() -> u32 {
    id(&["-u"])
}

fn user_ids(user: &str) -> (u32, u32) {
    (id(&["-u", user]), id(&["-g", user]))
}

/// `id ARGS` as a number; panics naming the problem (e.g. no `postgres` user).
fn id(args: &[&str]) -> u32 {
    let output = Command::new("id").args(args).output().expect("run id");
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim().parse().unwrap_or_else(|_| {
        panic!(
            "`id {}` failed ({}): the tests run as root, so PostgreSQL must run as the user \
             {SERVER_USER:?}, which Debian's postgresql package creates",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free loopback port")
}
