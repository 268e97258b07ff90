//! Settings for each engine, and task drafts.

use std::{path::Path, sync::Arc, time::Duration};

use backend::store::{self, Database, PgAuth, StoreSettings, TaskDraft, TaskStore};
use testkit::postgres::TestPostgres;

/// Fresh settings for `database` with room for `max_tasks`.
pub fn settings(database: Database, max_tasks: u64) -> StoreSettings {
    StoreSettings {
        database,
        max_tasks,
        max_connections: 5,
        timeout: Duration::from_secs(5),
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
