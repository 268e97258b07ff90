//! Settings for each engine, and task drafts.

use std::{path::Path, sync::Arc, time::Duration};

use backend::store::{self, BatchLimits, Database, PgAuth, StoreSettings, TaskDraft, TaskStore};
use sqlx::{
    SqlSafeStr,
    migrate::{Migration, MigrationType, Migrator},
};
use testkit::postgres::TestPostgres;

/// Fresh settings for `database` with room for `max_tasks`.
pub fn settings(database: Database, max_tasks: u64) -> StoreSettings {
    StoreSettings {
        database,
        max_tasks,
        max_connections: 5,
        timeout: Duration::from_secs(5),
        batch: BatchLimits::default(),
    }
}

pub fn sqlite_at(path: &Path) -> Database {
    Database::Sqlite {
        path: path.to_path_buf(),
    }
}

pub fn postgres(url: &str, auth: PgAuth) -> Database {
    Database::parse(url, auth).expect("test PostgreSQL URL")
}

/// A new database owned by a new role in `cluster`, and the URL to reach it with the password.
pub fn new_postgres_database(cluster: &TestPostgres, name: &str) -> String {
    cluster.create_owner(name, "app-password", name);
    cluster.url(name, Some("app-password"), name)
}

pub async fn open(settings: &StoreSettings) -> Arc<dyn TaskStore> {
    store::open(settings).await.expect("open the store")
}

pub fn draft(owner: &str, title: &str) -> TaskDraft {
    TaskDraft {
        title: title.to_owned(),
        owner_id: owner.to_owned(),
        owner_name: format!("User {owner}"),
    }
}

/// How many migrations the API ships for `engine` (`sqlite` or `postgres`): the files in
/// `backend/migrations/<engine>/`.
pub fn shipped_migrations(engine: &str) -> i64 {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    let files = std::fs::read_dir(&folder)
        .expect("the migrations folder")
        .count();
    i64::try_from(files).expect("a few files")
}

/// sqlx's migrator with only the first migration of `engine`: the schema of a database made by
/// the API before the task count existed (same version, description and SQL, so same checksum).
pub fn first_migration(engine: &str) -> Migrator {
    let sql = match engine {
        "sqlite" => include_str!("../../migrations/sqlite/0001_create_tasks.sql"),
        _ => include_str!("../../migrations/postgres/0001_create_tasks.sql"),
    };
    Migrator::with_migrations(vec![Migration::new(
        1,
        "create tasks".into(),
        MigrationType::Simple,
        sql.into_sql_str(),
        false,
    )])
}

/// What an upgrade must give: the task count of migration 2 starts from the tasks already
/// there (3 of `max_tasks` 4), and follows tasks added or removed behind the API's back.
pub async fn the_count_starts_from_existing_tasks(
    store: Arc<dyn TaskStore>,
    delete_one_behind_the_api: impl AsyncFnOnce(),
) {
    store
        .create(draft("alice", "fourth"))
        .await
        .expect("room for one more");
    let full = store.create(draft("alice", "fifth")).await;
    assert!(
        matches!(full, Err(store::StoreError::Full { limit: 4 })),
        "{full:?}"
    );
    delete_one_behind_the_api().await;
    store
        .create(draft("alice", "fifth"))
        .await
        .expect("room again after a delete by hand");
    assert_eq!(store.list(store::Scope::All).await.expect("list").len(), 4);
}
