//! What the SQLite store promises beyond the contract.

use backend::store::{Scope, TaskChanges};
use sqlx::{Connection, SqliteConnection, sqlite::SqliteConnectOptions};

use crate::support::{
    draft, first_migration, open, settings, shipped_migrations, sqlite_at,
    the_count_starts_from_existing_tasks,
};

/// The file and its folders are created on first start, in WAL mode; tasks, their changes and
/// the id sequence are all there after the store is closed and opened again.
#[tokio::test]
async fn creates_its_file_and_keeps_tasks_and_ids_across_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("not/yet/there/tasks.db");
    let config = settings(sqlite_at(&path), 100);

    let store = open(&config).await;
    assert!(path.is_file(), "created on first start");
    let kept = store.create(draft("alice", "kept")).await.expect("create");
    let newest = store
        .create(draft("alice", "deleted"))
        .await
        .expect("create");
    let changed = store
        .update(
            kept.id,
            Scope::All,
            TaskChanges {
                title: Some("changed".into()),
                completed: Some(true),
            },
        )
        .await
        .expect("update")
        .expect("found");
    assert!(store.delete(newest.id).await.expect("delete"));
    drop(store);

    let store = open(&config).await;
    assert_eq!(store.list(Scope::All).await.expect("list"), [changed]);
    let next = store
        .create(draft("bob", "after restart"))
        .await
        .expect("create");
    assert!(next.id > newest.id, "ids are not reused after a restart");
    drop(store);

    let mut connection =
        SqliteConnection::connect_with(&SqliteConnectOptions::new().filename(&path))
            .await
            .expect("inspect the file");
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut connection)
        .await
        .expect("journal mode");
    assert_eq!(mode, "wal");
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut connection)
        .await
        .expect("migrations");
    assert_eq!(
        applied,
        shipped_migrations("sqlite"),
        "each migration applied once: the second start applied nothing again"
    );
}

/// Processes starting together on one file take turns migrating: all of them start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_first_starts_all_succeed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = settings(sqlite_at(&dir.path().join("tasks.db")), 100);
    let (a, b, c) = tokio::join!(
        backend::store::open(&config),
        backend::store::open(&config),
        backend::store::open(&config)
    );
    let stores = [a, b, c].map(|result| result.expect("every start succeeds"));
    let task = stores[0]
        .create(draft("alice", "shared"))
        .await
        .expect("create");
    for store in &stores {
        assert_eq!(
            store.list(Scope::All).await.expect("list"),
            std::slice::from_ref(&task)
        );
    }
}

/// A file that is not an SQLite database stops the start-up with an error naming it.
#[tokio::test]
async fn a_file_that_is_not_a_database_is_a_clear_start_up_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tasks.db");
    std::fs::write(&path, vec![b'x'; 4096]).expect("write junk");
    let error = backend::store::open(&settings(sqlite_at(&path), 100))
        .await
        .expect_err("junk is refused");
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()) && message.contains("not a database"),
        "{message}"
    );
}

/// A database made before the task count (migration 1 only, three tasks): after the upgrade,
/// `TASKS_MAX` counts the tasks that were there and follows deletes made by hand.
#[tokio::test]
async fn an_upgraded_database_counts_its_existing_tasks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("tasks.db");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let mut connection = SqliteConnection::connect_with(&options)
        .await
        .expect("create the file");
    first_migration("sqlite")
        .run(&mut connection)
        .await
        .expect("the first migration");
    sqlx::raw_sql(
        "INSERT INTO tasks (title, owner_id, owner_name) VALUES ('1', 'a', 'A'), ('2', 'a', 'A'), ('3', 'a', 'A')",
    )
    .execute(&mut connection)
    .await
    .expect("tasks from before");

    let store = open(&settings(sqlite_at(&path), 4)).await;
    the_count_starts_from_existing_tasks(store, async || {
        sqlx::raw_sql("DELETE FROM tasks WHERE title = '1'")
            .execute(&mut connection)
            .await
            .expect("delete by hand");
    })
    .await;
}
