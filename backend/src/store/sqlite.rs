//! The SQLite store: one file on this machine, created with its folder on first start.
//!
//! WAL lets readers and the writer work at once; every commit is on disk before anyone is
//! answered (a power cut must not take back an acknowledged change): the writer's `COMMIT`
//! appends to the WAL (`synchronous=NORMAL`) and [`super::wal_sync`] syncs the WAL on a thread
//! of its own before it sends the answers, so that the next batch is written while the last one
//! syncs; `busy_timeout` bounds the wait for the write lock; foreign keys are enforced.
//!
//! Writes go to one connection, through the group commit ([`super::batch`]), whose writer task
//! runs with that connection on a thread of its own: its statements block that thread, not
//! Tokio's workers, and the next batch starts as soon as the last one is handed to the sync
//! thread. Reads run on the caller's thread, on one of a few read-only connections: a read of the
//! task list takes microseconds, less than handing it to another thread and back, which is what
//! a read through sqlx costs (measured in docs/decisions.md). sqlx still applies the migrations,
//! as it did before (its `_sqlx_migrations` table).

use std::{
    fs::File,
    path::Path,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError, TryLockError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior, params,
    params_from_iter,
};
use shared::Task;
use sqlx::{
    Connection as _,
    sqlite::{SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqliteSynchronous},
};

use super::{
    batch::{BatchError, Engine, Outcome, Replies, TaskCount, Write, Writer},
    durable::{DurableStore, Reads},
    migrations,
    settings::StoreSettings,
    sql,
    types::{OpenError, Scope, StoreError, StoreFuture, TaskChanges, TaskDraft},
    wal_sync::{Durability, WalSync},
};

/// Tasks in an SQLite file: read on the caller's thread, written by the group commit.
pub type SqliteStore = DurableStore<Readers>;

pub(super) async fn open(path: &Path, settings: &StoreSettings) -> Result<SqliteStore, OpenError> {
    let shown = path.display();
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(folder).await.map_err(|e| {
            OpenError(format!(
                "cannot create the folder {}: {e}",
                folder.display()
            ))
        })?;
    }
    migrate(path, settings.timeout).await?;
    let cannot_open =
        |e: rusqlite::Error| OpenError(format!("cannot open the SQLite database {shown}: {e}"));
    let readers = (0..settings.max_connections)
        .map(|_| connect(path, settings.timeout, Access::Read).map(Mutex::new))
        .collect::<Result<_, _>>()
        .map_err(cannot_open)?;
    let connection = connect(path, settings.timeout, Access::Write).map_err(cannot_open)?;
    // Answers wait for the WAL's sync: without a WAL (a file system where SQLite cannot keep
    // one), nothing would be synced, so refuse to start.
    let mode: String = connection
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .map_err(cannot_open)?;
    if mode != "wal" {
        return Err(OpenError(format!(
            "the SQLite database {shown} is in journal mode {mode}, not WAL; put it on a local disk"
        )));
    }
    // The first read creates the WAL file, which `WalSync` opens.
    connection
        .query_row("SELECT n FROM task_count", [], |row| row.get::<_, i64>(0))
        .map_err(cannot_open)?;
    let durability = Durability::new();
    let sync = WalSync::start(path, Arc::clone(&durability))
        .map_err(|e| OpenError(format!("cannot start syncing the WAL of {shown}: {e}")))?;
    let engine = SqliteEngine {
        connection,
        inserts: Inserts::new(),
        max_tasks: i64::try_from(settings.max_tasks).unwrap_or(i64::MAX),
        sync,
        commit: 0,
    };
    let writer = Writer::spawn_on_thread(
        "sqlite-writer",
        engine,
        settings.batch,
        settings.timeout,
        settings.max_tasks,
    )
    .map_err(|e| OpenError(format!("cannot start the SQLite writer thread: {e}")))?;
    Ok(DurableStore::new(
        Readers {
            connections: readers,
            next: AtomicUsize::new(0),
            durability,
            timeout: settings.timeout,
        },
        writer,
    ))
}

/// Creates the file (in WAL mode) if needed and applies the migrations, with sqlx's migrator on
/// one connection, under [`MigrationLock`].
async fn migrate(path: &Path, timeout: Duration) -> Result<(), OpenError> {
    let shown = path.display();
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(timeout);
    let mut connection = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| OpenError(format!("cannot open the SQLite database {shown}: {e}")))?;
    let lock = MigrationLock::acquire(path, timeout).await?;
    migrations::sqlite()
        .run(&mut connection)
        .await
        .map_err(|e| OpenError(format!("cannot migrate the SQLite database {shown}: {e}")))?;
    drop(lock);
    connection
        .close()
        .await
        .map_err(|e| OpenError(format!("cannot close the SQLite database {shown}: {e}")))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    Read,
    Write,
}

/// A connection to the migrated file, with the store's settings.
fn connect(path: &Path, timeout: Duration, access: Access) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(timeout)?;
    connection.pragma_update(None, "foreign_keys", true)?;
    match access {
        // A read connection that tried to write would be a bug: make it an error.
        Access::Read => connection.pragma_update(None, "query_only", true)?,
        // The writer's commits return before the WAL is synced: `WalSync` syncs it before
        // anyone is answered.
        Access::Write => connection.pragma_update(None, "synchronous", "NORMAL")?,
    }
    Ok(connection)
}

/// The read connections, each used by one caller at a time on the caller's own thread.
#[derive(Debug)]
pub struct Readers {
    connections: Box<[Mutex<Connection>]>,
    /// Where the next read starts looking for a free connection, so reads spread over them.
    next: AtomicUsize,
    /// A read answers once what it saw is on disk, waiting at most `timeout`.
    durability: Arc<Durability>,
    timeout: Duration,
}

impl Readers {
    /// A free connection, or (all busy) the next one once its read is done: as many reads run
    /// at once as there are threads, so a busy connection is free again within one read.
    fn connection(&self) -> MutexGuard<'_, Connection> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        for offset in 0..count {
            match self.connections[(start + offset) % count].try_lock() {
                Ok(connection) => return connection,
                // A panic during a read leaves the connection usable (no transaction is open).
                Err(TryLockError::Poisoned(poisoned)) => return poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {}
            }
        }
        self.connections[start % count]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn list_now(&self, scope: Scope<'_>) -> rusqlite::Result<Vec<Task>> {
        let connection = self.connection();
        let (sql, owner) = match scope {
            Scope::All => (sql::LIST_ALL, None),
            Scope::OwnedBy(owner) => (sql::LIST_OWNED, Some(owner)),
        };
        let mut statement = connection.prepare_cached(sql)?;
        let rows = match owner {
            None => statement.query_map([], read_task)?,
            Some(owner) => statement.query_map([owner], read_task)?,
        };
        rows.collect()
    }
}

/// The group commit's writer: one connection, on the writer's own thread (its commits block).
struct SqliteEngine {
    connection: Connection,
    inserts: Inserts,
    max_tasks: i64,
    sync: WalSync,
    /// The number of the last commit.
    commit: u64,
}

impl Engine for SqliteEngine {
    async fn commit(&mut self, writes: &[Write]) -> Result<Vec<Outcome>, BatchError> {
        let (transaction, outcomes) =
            apply(&mut self.connection, &self.inserts, writes, self.max_tasks)?;
        // Numbered before it can be seen, so that a read that sees it waits for its sync.
        self.commit = self.sync.begin().map_err(BatchError::Failed)?;
        if let Err(error) = transaction.commit() {
            // Settles the number for the reads that wait for it.
            self.sync.committed(self.commit, Replies::default());
            return Err(failed(error));
        }
        Ok(outcomes)
    }

    fn acknowledge(&mut self, replies: Replies) {
        self.sync.committed(self.commit, replies);
    }
}

/// The multi-row inserts of a run of creates, largest first: a run of n creates takes the
/// largest that fits, then the next, so 32 creates are two statements. A batch of 32 inserts
/// takes 43 µs as multi-row statements against 108 µs one by one (docs/benchmarks.md).
struct Inserts([(usize, String); 4]);

impl Inserts {
    fn new() -> Self {
        Self([64, 16, 4, 1].map(|rows| (rows, sql::insert_rows(rows))))
    }

    /// The statement for the first rows of a run of `creates` (at least one), and its rows.
    fn next(&self, creates: usize) -> (&str, usize) {
        let (rows, sql) = self
            .0
            .iter()
            .find(|(rows, _)| *rows <= creates)
            .unwrap_or(&self.0[3]);
        (sql, *rows)
    }
}

/// `writes` in one `BEGIN IMMEDIATE` transaction (the write lock is taken first, so the count of
/// tasks read inside cannot change under it), to be committed by the caller. On error, dropping
/// the transaction rolls it back.
fn apply<'c>(
    connection: &'c mut Connection,
    inserts: &Inserts,
    writes: &[Write],
    max_tasks: i64,
) -> Result<(Transaction<'c>, Vec<Outcome>), BatchError> {
    let transaction = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(failed)?;
    let mut count = TaskCount::new(max_tasks);
    let mut outcomes = Vec::with_capacity(writes.len());
    while outcomes.len() < writes.len() {
        let index = outcomes.len();
        let outcome = match &writes[index] {
            Write::Create(_) => {
                let drafts: Vec<&TaskDraft> = writes[index..]
                    .iter()
                    .map_while(|write| match write {
                        Write::Create(draft) => Some(draft),
                        _ => None,
                    })
                    .collect();
                create(&transaction, inserts, &drafts, &mut count, &mut outcomes)?;
                continue;
            }
            Write::Update { id, owner, changes } => {
                update(&transaction, *id, owner.as_deref(), changes)
            }
            Write::Delete { id } => delete(&transaction, *id, &mut count),
        };
        outcomes.push(outcome.map_err(at(index))?);
    }
    Ok((transaction, outcomes))
}

/// A run of creates: as many as `TASKS_MAX` leaves room for (the batch's first create reads the
/// count of tasks), the others [`Outcome::Full`]. A row the database refuses makes its chunk run
/// again row by row, so the refusal names its write.
fn create(
    connection: &Connection,
    inserts: &Inserts,
    drafts: &[&TaskDraft],
    count: &mut TaskCount,
    outcomes: &mut Vec<Outcome>,
) -> Result<(), BatchError> {
    let first = outcomes.len();
    let tasks = match count.known() {
        Some(tasks) => tasks,
        None => connection
            .prepare_cached(sql::COUNT)
            .and_then(|mut count| count.query_row([], |row| row.get(0)))
            .map_err(failed)?,
    };
    let fits = count.room(tasks).min(drafts.len());
    let mut done = 0;
    while done < fits {
        let (sql, rows) = inserts.next(fits - done);
        let chunk = &drafts[done..done + rows];
        match insert(connection, sql, chunk) {
            Ok(ids) => outcomes.extend(ids),
            Err(error) if rows > 1 && is_refusal(&error) => {
                for (offset, draft) in chunk.iter().enumerate() {
                    let ids = insert(connection, inserts.next(1).0, &[draft])
                        .map_err(at(first + done + offset))?;
                    outcomes.extend(ids);
                }
            }
            Err(error) => return Err(at(first + done)(error)),
        }
        done += rows;
    }
    count.created(fits);
    outcomes.extend(drafts[fits..].iter().map(|_| Outcome::Full));
    Ok(())
}

/// Inserts `drafts` with `sql`: their outcomes, in their order.
fn insert(
    connection: &Connection,
    sql: &str,
    drafts: &[&TaskDraft],
) -> rusqlite::Result<Vec<Outcome>> {
    let values = drafts
        .iter()
        .flat_map(|draft| [&draft.title, &draft.owner_id, &draft.owner_name]);
    let mut ids = connection
        .prepare_cached(sql)?
        .query_map(params_from_iter(values), |row| row.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.sort_unstable();
    ids.into_iter()
        .map(|id| id_of(id).map(Outcome::Created))
        .collect()
}

fn is_refusal(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::ConstraintViolation)
    )
}

/// The batch error for a failure of the write at `index`: a refusal fails that write alone.
fn at(index: usize) -> impl Fn(rusqlite::Error) -> BatchError {
    move |error| {
        if is_refusal(&error) {
            BatchError::Refused {
                index,
                error: unavailable(error),
            }
        } else {
            failed(error)
        }
    }
}

/// The updated task, or `None` if there is no such task (of `owner`, if given).
fn update(
    connection: &Connection,
    id: i64,
    owner: Option<&str>,
    changes: &TaskChanges,
) -> rusqlite::Result<Outcome> {
    let TaskChanges { title, completed } = changes;
    let updated = match owner {
        None => connection
            .prepare_cached(sql::UPDATE_ANY)?
            .query_row(params![title, completed, id], read_task),
        Some(owner) => connection
            .prepare_cached(sql::UPDATE_OWNED)?
            .query_row(params![title, completed, id, owner], read_task),
    };
    Ok(Outcome::Updated(updated.optional()?))
}

fn delete(connection: &Connection, id: i64, count: &mut TaskCount) -> rusqlite::Result<Outcome> {
    let deleted = connection.prepare_cached(sql::DELETE)?.execute([id])? > 0;
    if deleted {
        count.deleted();
    }
    Ok(Outcome::Deleted(deleted))
}

fn read_task(row: &rusqlite::Row<'_>) -> rusqlite::Result<Task> {
    Ok(Task {
        id: id_of(row.get(0)?)?,
        title: row.get(1)?,
        completed: row.get(2)?,
        owner_id: row.get(3)?,
        owner_name: row.get(4)?,
    })
}

fn id_of(id: i64) -> rusqlite::Result<u64> {
    u64::try_from(id).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, id))
}

fn unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn failed(error: rusqlite::Error) -> BatchError {
    BatchError::Failed(unavailable(error))
}

impl Reads for Readers {
    fn list<'a>(&'a self, scope: Scope<'a>) -> StoreFuture<'a, Vec<Task>> {
        let result = self.list_now(scope).map_err(unavailable);
        Box::pin(async move {
            let tasks = result?;
            self.durability.settled(self.timeout).await?;
            Ok(tasks)
        })
    }
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
                Err(std::fs::TryLockError::WouldBlock)
                    if tokio::time::Instant::now() < deadline =>
                {
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
