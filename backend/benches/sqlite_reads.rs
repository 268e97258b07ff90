//! Where the time of an SQLite read goes, through sqlx and through rusqlite: the evidence for
//! the SQLite store's driver (docs/decisions.md). Run with
//! `cargo bench -p backend --bench sqlite_reads`.
//!
//! The read is the API's `GET /api/tasks` query for one owner with 5 tasks, on a WAL file with
//! the store's settings. Each line is the median of 5 rounds of `READS` reads; the concurrent
//! lines run 32 tasks on a 2-thread runtime (the API's shape on the reference machine), the
//! sequential ones a single task, so they show the latency of one read.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use backend::store::{self, BatchLimits, Database, Scope, StoreSettings, TaskDraft, TaskStore};

use sqlx::{
    Row, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

const LIST_OWNED: &str =
    "SELECT id, title, completed, owner_id, owner_name FROM tasks WHERE owner_id = $1 ORDER BY id";
const READS: u32 = 20_000;
const ROUNDS: usize = 5;
const TASKS: u32 = 32;

type Task = (i64, String, bool, String, String);

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tasks.db");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let pool = runtime.block_on(sqlx_pool(&path));
    let mut connection = runtime
        .block_on(pool.acquire())
        .expect("connection")
        .detach();
    let rusqlite = rusqlite::Connection::open(&path).expect("rusqlite");
    rusqlite
        .pragma_update(None, "synchronous", "FULL")
        .expect("pragma");
    let shared = Arc::new(Mutex::new(
        rusqlite::Connection::open(&path).expect("rusqlite"),
    ));

    println!("one read of 5 tasks, median of {ROUNDS} rounds of {READS} reads:");
    let line = |label: &str, per_read: Duration| {
        println!("  {label:<58} {:>7.1} µs", per_read.as_secs_f64() * 1e6);
    };
    line(
        "sqlx: pool checkout and return only",
        rounds(|| {
            runtime.block_on(async {
                for _ in 0..READS {
                    drop(pool.acquire().await.expect("acquire"));
                }
            })
        }),
    );
    line(
        "sqlx: read on a connection held (no checkout)",
        rounds(|| {
            runtime.block_on(async {
                for _ in 0..READS {
                    let rows: Vec<Task> = sqlx::query_as(LIST_OWNED)
                        .bind("alice")
                        .fetch_all(&mut connection)
                        .await
                        .expect("read");
                    assert_eq!(rows.len(), 5);
                }
            })
        }),
    );
    line(
        "sqlx: read through the pool (what the API did)",
        rounds(|| {
            runtime.block_on(async {
                for _ in 0..READS {
                    let rows: Vec<Task> = sqlx::query_as(LIST_OWNED)
                        .bind("alice")
                        .fetch_all(&pool)
                        .await
                        .expect("read");
                    assert_eq!(rows.len(), 5);
                }
            })
        }),
    );
    line(
        "sqlx: the same, rows not decoded (ids only)",
        rounds(|| {
            runtime.block_on(async {
                for _ in 0..READS {
                    let rows = sqlx::query(LIST_OWNED)
                        .bind("alice")
                        .fetch_all(&pool)
                        .await
                        .expect("read");
                    let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
                    assert_eq!(ids.len(), 5);
                }
            })
        }),
    );
    line(
        "Tokio: a hop to a blocking thread and back (spawn_blocking)",
        rounds(|| {
            runtime.block_on(async {
                for _ in 0..READS {
                    tokio::task::spawn_blocking(|| ()).await.expect("hop");
                }
            })
        }),
    );
    line(
        "rusqlite: statement prepared for every read",
        rounds(|| {
            for _ in 0..READS {
                let mut statement = rusqlite.prepare(LIST_OWNED).expect("prepare");
                assert_eq!(read(&mut statement), 5);
            }
        }),
    );
    line(
        "rusqlite: cached statement, rows not decoded (ids only)",
        rounds(|| {
            for _ in 0..READS {
                let mut statement = rusqlite.prepare_cached(LIST_OWNED).expect("prepare");
                let ids = statement
                    .query_map(["alice"], |row| row.get::<_, i64>(0))
                    .expect("query")
                    .count();
                assert_eq!(ids, 5);
            }
        }),
    );
    line(
        "rusqlite: cached statement, on the caller's thread (the store)",
        rounds(|| {
            for _ in 0..READS {
                let mut statement = rusqlite.prepare_cached(LIST_OWNED).expect("prepare");
                assert_eq!(read(&mut statement), 5);
            }
        }),
    );

    println!("reads/s with {TASKS} concurrent tasks on 2 threads, median of {ROUNDS} rounds:");
    let per_second = |label: &str, per_read: Duration| {
        println!("  {label:<58} {:>9.0}", 1.0 / per_read.as_secs_f64());
    };
    per_second(
        "sqlx: read through the pool",
        rounds(|| {
            runtime.block_on(concurrently(|| {
                let pool = pool.clone();
                async move {
                    let rows: Vec<Task> = sqlx::query_as(LIST_OWNED)
                        .bind("alice")
                        .fetch_all(&pool)
                        .await
                        .expect("read");
                    assert_eq!(rows.len(), 5);
                }
            }))
        }),
    );
    per_second(
        "rusqlite: in spawn_blocking, one connection behind a mutex",
        rounds(|| {
            runtime.block_on(concurrently(|| {
                let shared = shared.clone();
                async move {
                    tokio::task::spawn_blocking(move || {
                        let connection = shared.lock().expect("lock");
                        let mut statement = connection.prepare_cached(LIST_OWNED).expect("prepare");
                        assert_eq!(read(&mut statement), 5);
                    })
                    .await
                    .expect("join");
                }
            }))
        }),
    );
    let store_dir = tempfile::tempdir().expect("temp dir");
    let store = runtime.block_on(store_with_tasks(&store_dir.path().join("tasks.db")));
    per_second(
        "the SQLite store (rusqlite, on the caller's thread)",
        rounds(|| {
            runtime.block_on(concurrently(|| {
                let store = store.clone();
                async move {
                    let tasks = store.list(Scope::OwnedBy("alice")).await.expect("list");
                    assert_eq!(tasks.len(), 5);
                }
            }))
        }),
    );
    per_second(
        "rusqlite: on the caller's thread, one connection behind a mutex",
        rounds(|| {
            runtime.block_on(concurrently(|| {
                let shared = shared.clone();
                async move {
                    let connection = shared.lock().expect("lock");
                    let mut statement = connection.prepare_cached(LIST_OWNED).expect("prepare");
                    assert_eq!(read(&mut statement), 5);
                }
            }))
        }),
    );
}

/// A pool and file as the store had them: WAL, synchronous=FULL, 5 tasks of "alice".
async fn sqlx_pool(path: &std::path::Path) -> SqlitePool {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let pool = SqlitePoolOptions::new()
        .max_connections(5)
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .expect("pool");
    sqlx::raw_sql(
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, completed INTEGER NOT NULL DEFAULT 0, owner_id TEXT NOT NULL, owner_name TEXT NOT NULL) STRICT;
         CREATE INDEX tasks_by_owner ON tasks (owner_id, id);",
    )
    .execute(&pool)
    .await
    .expect("schema");
    for i in 0..5 {
        for owner in ["alice", "bob"] {
            sqlx::query("INSERT INTO tasks (title, owner_id, owner_name) VALUES ($1, $2, $3)")
                .bind(format!("benchmark task {i}"))
                .bind(owner)
                .bind("A User")
                .execute(&pool)
                .await
                .expect("insert");
        }
    }
    pool
}

/// The store as the API opens it, with 5 tasks of "alice" and 5 of "bob".
async fn store_with_tasks(path: &std::path::Path) -> Arc<dyn TaskStore> {
    let settings = StoreSettings {
        database: Database::Sqlite {
            path: path.to_path_buf(),
        },
        max_tasks: 100,
        max_connections: 5,
        timeout: Duration::from_secs(5),
        batch: BatchLimits::default(),
    };
    let store = store::open(&settings).await.expect("open the store");
    for i in 0..5 {
        for owner in ["alice", "bob"] {
            let draft = TaskDraft {
                title: format!("benchmark task {i}"),
                owner_id: owner.into(),
                owner_name: "A User".into(),
            };
            store.create(draft).await.expect("create");
        }
    }
    store
}

/// The rows of the list, decoded as the store decodes them.
fn read(statement: &mut rusqlite::Statement<'_>) -> usize {
    statement
        .query_map(["alice"], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
            ))
        })
        .expect("query")
        .map(|task: rusqlite::Result<Task>| task.expect("row"))
        .collect::<Vec<Task>>()
        .len()
}

/// `READS` runs of `read`, spread over `TASKS` tasks.
async fn concurrently<F, Fut>(read: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let per_task = READS / TASKS;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let reads: Vec<Fut> = (0..per_task).map(|_| read()).collect();
            tokio::spawn(async move {
                for one in reads {
                    one.await;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
}

/// The median time of one read over `ROUNDS` rounds of `READS` reads each.
fn rounds(mut round: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let started = Instant::now();
            round();
            started.elapsed() / READS
        })
        .collect();
    times.sort();
    times[ROUNDS / 2]
}
