//! The group commit against the real engines: writes that wait together share a transaction,
//! each keeps its own meaning inside it, a write the database refuses fails alone, and a failed
//! batch fails all its requests with one error and keeps none of its writes.
//!
//! To put writes in one batch for sure, a test holds the database's write lock from its own
//! connection, sends one write (the writer takes it and waits for the lock), queues the writes
//! of interest behind it, then lets go: the writer takes everything queued as its next batch.

use std::{path::PathBuf, sync::Arc, time::Duration};

use backend::store::{Scope, StoreError, TaskChanges, TaskStore};
use shared::Task;
use sqlx::{Connection, PgConnection};
use testkit::postgres::TestPostgres;

use crate::support::{draft, new_postgres_database, open, postgres, settings, sqlite_at};
use backend::store::PgAuth;

/// A database of one engine, reached both by the store and by the test's own connections.
enum Engine {
    Sqlite(tempfile::TempDir),
    Postgres { cluster: TestPostgres, url: String },
}

/// The database's write lock, held by the test.
enum Hold {
    Sqlite(rusqlite::Connection),
    Postgres(PgConnection),
}

impl Engine {
    fn sqlite() -> Self {
        Engine::Sqlite(tempfile::tempdir().expect("temp dir"))
    }

    fn postgres() -> Self {
        let cluster = TestPostgres::start();
        let url = new_postgres_database(&cluster, "tasks");
        Engine::Postgres { cluster, url }
    }

    fn path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("tasks.db")
    }

    async fn open(&self, max_tasks: u64) -> Arc<dyn TaskStore> {
        let database = match self {
            Engine::Sqlite(dir) => sqlite_at(&Self::path(dir)),
            Engine::Postgres { url, .. } => postgres(url, PgAuth::Password),
        };
        open(&settings(database, max_tasks)).await
    }

    /// Takes the lock every batch that creates a task needs first.
    async fn hold_writes(&self) -> Hold {
        match self {
            Engine::Sqlite(dir) => {
                let connection = rusqlite::Connection::open(Self::path(dir)).expect("open");
                connection
                    .execute_batch("BEGIN IMMEDIATE")
                    .expect("take the write lock");
                Hold::Sqlite(connection)
            }
            Engine::Postgres { url, .. } => {
                let mut connection = PgConnection::connect(url).await.expect("connect");
                sqlx::raw_sql("BEGIN; SELECT n FROM task_count FOR UPDATE")
                    .execute(&mut connection)
                    .await
                    .expect("lock the task count");
                Hold::Postgres(connection)
            }
        }
    }

    /// A trigger that rejects creating a task titled `title`: as a constraint (`refuse`), or as
    /// any other failure (the batch fails).
    fn reject_title(&self, title: &str, as_constraint: bool) {
        match self {
            Engine::Sqlite(dir) => {
                // RAISE is a constraint error; abs() of the smallest integer is an overflow error.
                let action = if as_constraint {
                    "SELECT RAISE(ABORT, 'refused by a test trigger')"
                } else {
                    "SELECT abs(-9223372036854775807 - 1)"
                };
                let connection = rusqlite::Connection::open(Self::path(dir)).expect("open");
                connection
                    .execute_batch(&format!(
                        "CREATE TRIGGER \"reject {title}\" BEFORE INSERT ON tasks WHEN NEW.title = '{title}' BEGIN {action}; END"
                    ))
                    .expect("create the trigger");
            }
            Engine::Postgres { cluster, .. } => {
                let code = if as_constraint {
                    "check_violation"
                } else {
                    "io_error"
                };
                let function = format!("reject_{}", title.replace(' ', "_"));
                cluster.psql(
                    "tasks",
                    &format!(
                        "CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'rejected by a test trigger' USING ERRCODE = '{code}'; END $$; \
                         CREATE TRIGGER {function} BEFORE INSERT ON tasks FOR EACH ROW WHEN (NEW.title = '{title}') EXECUTE FUNCTION {function}();"
                    ),
                );
            }
        }
    }

    /// How many transactions created the tasks titled `titles` (PostgreSQL: distinct `xmin`);
    /// `None` on SQLite, which does not say.
    fn transactions_that_created(&self, titles: &[&str]) -> Option<String> {
        match self {
            Engine::Sqlite(_) => None,
            Engine::Postgres { cluster, .. } => {
                let list = titles
                    .iter()
                    .map(|t| format!("'{t}'"))
                    .collect::<Vec<_>>()
                    .join(", ");
                Some(cluster.psql(
                    "tasks",
                    &format!(
                        "SELECT COUNT(DISTINCT xmin::text) FROM tasks WHERE title IN ({list})"
                    ),
                ))
            }
        }
    }
}

impl Hold {
    async fn release(self) {
        match self {
            Hold::Sqlite(connection) => connection.execute_batch("COMMIT").expect("commit"),
            Hold::Postgres(mut connection) => {
                sqlx::raw_sql("COMMIT")
                    .execute(&mut connection)
                    .await
                    .expect("commit");
            }
        }
    }
}

/// Runs `batch` as one batch of `store`'s writer: holds the write lock, sends a first create
/// (titled "first", the writer's current batch, waiting for the lock), queues `batch` behind it,
/// and lets go.
async fn as_one_batch<T>(
    engine: &Engine,
    store: &Arc<dyn TaskStore>,
    batch: impl Future<Output = T>,
) -> T {
    let hold = engine.hold_writes().await;
    let first = tokio::spawn({
        let store = store.clone();
        async move { store.create(draft("alice", "first")).await }
    });
    // The writer has taken "first" and waits for the lock; what comes now queues behind it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (outcome, ()) = tokio::join!(batch, async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        hold.release().await;
    });
    first.await.expect("join").expect("the first create");
    outcome
}

fn titled(task: &Task, title: &str, completed: bool) -> bool {
    task.title == title && task.completed == completed
}

/// Creates up to `TASKS_MAX`, an update outside the caller's scope, an update and a delete of
/// the same task in both orders: in one batch, each answered as if it had come alone, in order.
async fn writes_in_one_batch_keep_their_own_meaning(engine: Engine) {
    let store = engine.open(5).await;
    let bobs = store.create(draft("bob", "bob's")).await.expect("create");
    let doomed = store
        .create(draft("alice", "doomed"))
        .await
        .expect("create");
    let kept = store.create(draft("alice", "kept")).await.expect("create");
    // With "first", 4 of 5: room for one more, then one more after the delete.
    let done = || TaskChanges {
        title: None,
        completed: Some(true),
    };
    let outcomes = as_one_batch(&engine, &store, async {
        tokio::join!(
            store.create(draft("alice", "fifth")),
            store.create(draft("alice", "one too many")),
            store.update(bobs.id, Scope::OwnedBy("alice"), done()),
            store.delete(doomed.id),
            store.update(doomed.id, Scope::All, done()),
            store.create(draft("alice", "after the delete")),
            store.update(kept.id, Scope::OwnedBy("alice"), done()),
            store.delete(kept.id),
        )
    })
    .await;
    let (fifth, too_many, not_yours, deleted, gone, after_delete, updated, deleted_after) =
        outcomes;
    assert!(titled(&fifth.expect("fifth"), "fifth", false));
    assert!(
        matches!(too_many, Err(StoreError::Full { limit: 5 })),
        "{too_many:?}"
    );
    assert_eq!(not_yours.expect("update"), None, "another owner's task");
    assert!(deleted.expect("delete"));
    assert_eq!(gone.expect("update"), None, "updated after its delete");
    assert!(titled(
        &after_delete.expect("room after the delete"),
        "after the delete",
        false
    ));
    assert!(titled(
        &updated.expect("update").expect("found"),
        "kept",
        true
    ));
    assert!(deleted_after.expect("delete"));

    let titles: Vec<String> = store
        .list(Scope::All)
        .await
        .expect("list")
        .into_iter()
        .map(|t| format!("{}:{}:{}", t.owner_id, t.title, t.completed))
        .collect();
    assert_eq!(
        titles,
        [
            "bob:bob's:false",
            "alice:first:false",
            "alice:fifth:false",
            "alice:after the delete:false"
        ]
    );
    if let Some(transactions) = engine.transactions_that_created(&["fifth", "after the delete"]) {
        assert_eq!(
            transactions, "1",
            "the batch's creates share one transaction"
        );
    }
}

/// A create the database refuses (a constraint) fails alone; the others of its batch are kept.
async fn a_refused_write_fails_alone(engine: Engine) {
    let store = engine.open(100).await;
    engine.reject_title("refuse me", true);
    let (a, refused, b) = as_one_batch(&engine, &store, async {
        tokio::join!(
            store.create(draft("alice", "a")),
            store.create(draft("alice", "refuse me")),
            store.create(draft("alice", "b")),
        )
    })
    .await;
    let message = match refused {
        Err(StoreError::Unavailable(message)) => message,
        other => panic!("refused: {other:?}"),
    };
    assert!(
        message.contains("refused by a test trigger")
            || message.contains("rejected by a test trigger"),
        "{message}"
    );
    let (a, b) = (a.expect("a"), b.expect("b"));
    assert_eq!(
        store.list(Scope::All).await.expect("list").len(),
        3,
        "first, a and b"
    );
    assert!(a.id < b.id);
}

/// A long run of creates in one batch (SQLite inserts it with multi-row statements): each answer
/// is the task stored under its id, ids follow the order of the requests, a refused create in the
/// middle fails alone, and the creates past `TASKS_MAX` are refused as full.
async fn a_run_of_creates_keeps_order_refusals_and_the_limit(engine: Engine) {
    let store = engine.open(20).await;
    engine.reject_title("refuse me", true);
    let titles: Vec<String> = (0..24)
        .map(|n| match n {
            7 => "refuse me".to_owned(),
            n => format!("task {n}"),
        })
        .collect();
    let results = as_one_batch(
        &engine,
        &store,
        futures_util::future::join_all(
            titles
                .iter()
                .map(|title| store.create(draft("alice", title))),
        ),
    )
    .await;
    assert!(
        matches!(results[7], Err(StoreError::Unavailable(_))),
        "{:?}",
        results[7]
    );
    // "first" and 19 of these fill the store: task 0 to task 19 but for the refused one.
    let created: Vec<Task> = results[..20]
        .iter()
        .enumerate()
        .filter(|(n, _)| *n != 7)
        .map(|(n, result)| result.clone().unwrap_or_else(|e| panic!("task {n}: {e}")))
        .collect();
    for (n, result) in results.iter().enumerate().skip(20) {
        assert!(
            matches!(result, Err(StoreError::Full { limit: 20 })),
            "task {n}: {result:?}"
        );
    }
    assert!(
        created.windows(2).all(|pair| pair[0].id < pair[1].id),
        "{created:?}"
    );
    let mut stored = store.list(Scope::All).await.expect("list");
    assert_eq!(stored.remove(0).title, "first");
    assert_eq!(
        stored, created,
        "each answer is the task stored under its id"
    );
}

/// A batch that fails (a failure that is not the write's alone) fails every request in it with
/// the same error, and none of its writes is kept; the next batch works.
async fn a_failed_batch_fails_every_request_and_keeps_nothing(engine: Engine) {
    let store = engine.open(100).await;
    let changed = store
        .create(draft("alice", "unchanged"))
        .await
        .expect("create");
    let deleted = store
        .create(draft("alice", "not deleted"))
        .await
        .expect("create");
    engine.reject_title("fail the batch", false);
    let results = as_one_batch(&engine, &store, async {
        tokio::join!(
            store.update(
                changed.id,
                Scope::All,
                TaskChanges {
                    title: Some("changed".into()),
                    completed: None,
                },
            ),
            store.create(draft("alice", "created")),
            store.delete(deleted.id),
            store.create(draft("alice", "fail the batch")),
        )
    })
    .await;
    let errors = [
        results.0.map(|_| ()),
        results.1.map(|_| ()),
        results.2.map(|_| ()),
        results.3.map(|_| ()),
    ]
    .map(|result| match result {
        Err(StoreError::Unavailable(message)) => message,
        other => panic!("every request fails: {other:?}"),
    });
    assert!(
        errors.iter().all(|e| e == &errors[0]),
        "one error for all: {errors:?}"
    );
    let titles: Vec<String> = store
        .list(Scope::All)
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.title)
        .collect();
    assert_eq!(
        titles,
        ["unchanged", "not deleted", "first"],
        "nothing of the failed batch is kept"
    );
    store
        .create(draft("alice", "next"))
        .await
        .expect("the next batch commits");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writes_in_one_batch_keep_their_own_meaning() {
    writes_in_one_batch_keep_their_own_meaning(Engine::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writes_in_one_batch_keep_their_own_meaning() {
    writes_in_one_batch_keep_their_own_meaning(Engine::postgres()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_refused_write_fails_alone() {
    a_refused_write_fails_alone(Engine::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_refused_write_fails_alone() {
    a_refused_write_fails_alone(Engine::postgres()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_run_of_creates_keeps_order_refusals_and_the_limit() {
    a_run_of_creates_keeps_order_refusals_and_the_limit(Engine::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_run_of_creates_keeps_order_refusals_and_the_limit() {
    a_run_of_creates_keeps_order_refusals_and_the_limit(Engine::postgres()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_a_failed_batch_fails_every_request_and_keeps_nothing() {
    a_failed_batch_fails_every_request_and_keeps_nothing(Engine::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_a_failed_batch_fails_every_request_and_keeps_nothing() {
    a_failed_batch_fails_every_request_and_keeps_nothing(Engine::postgres()).await;
}
