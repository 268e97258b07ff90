//! The SQLite store: one file on this machine, created with its folder on first start.
//!
//! WAL lets readers and the writer work at once; `synchronous=FULL` makes every commit reach the
//! disk before the API answers (NORMAL could lose the last commits on a power cut, and the API's
//! promise is that an acknowledged change is durable); `busy_timeout` bounds the wait for the
//! write lock; foreign keys are enforced. Writes go through one connection, reads through a pool
//! of `DATABASE_MAX_CONNECTIONS`.

use std::{
    fs::{File, TryLockError},
    path::Path,
    time::Duration,
};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{
    OpenError, StoreSettings, migrations,
    sql::{Pool, SqlStore},
};

pub(super) async fn open(path: &Path, settings: &StoreSettings) -> Result<SqlStore, OpenError> {
    let shown = path.display();
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(folder).await.map_err(|e| {
            OpenError(format!(
                "cannot create the folder {}: {e}",
                folder.display()
            ))
        })?;
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(settings.timeout)
        .foreign_keys(true);
    let connect = |connections: u32| {
        SqlitePoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(settings.timeout)
            // A file on this machine does not drop connections: no ping before every query.
            .test_before_acquire(false)
            .connect_with(options.clone())
    };
    let cannot_open =
        |e: sqlx::Error| OpenError(format!("cannot open the SQLite database {shown}: {e}"));
    let writes = connect(1).await.map_err(cannot_open)?;
    let reads = connect(settings.max_connections)
        .await
        .map_err(cannot_open)?;
    let store = SqlStore::new(Pool::Sqlite { reads, writes }, settings.max_tasks, None);
    let _lock = MigrationLock::acquire(path, settings.timeout).await?;
    store
        .migrate(&migrations::sqlite())
        .await
        .map_err(|e| OpenError(format!("cannot migrate the SQLite database {shown}: {e}")))?;
    Ok(store)
}

/// An exclusive lock on `<database>.migrate-lock` while migrations run. sqlx's migrator locks
/// PostgreSQL but not SQLite, where two processes starting at once on the same file would both
/// try to apply the first migration and one would fail.
struct MigrationLock(File);

impl MigrationLock {
    async fn acquire(database: &Path, timeout: Duration) -> Result<Self, OpenError> {
        let mut name = database.as_os_str().to_owned();
        name.push(".migrate-lock");
        let path = Path::new(&name);
        let file = File::create(path)
            .map_err(|e| OpenError(format!("cannot create {}: {e}", path.display())))?;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Self(file)),
                Err(TryLockError::WouldBlock) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => {
                    return Err(OpenError(format!("cannot lock {}: {e}", path.display())));
                }
            }
        }
    }
}

impl Drop for MigrationLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}
