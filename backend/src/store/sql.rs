//! [`SqlStore`]: tasks in SQLite or PostgreSQL. The queries are written once, in SQL both engines
//! accept (`$1` placeholders, `RETURNING`), and run on whichever pool the store holds; only
//! creating a task differs, to keep `TASKS_MAX` exact under concurrency.
//!
//! Every change is a single statement in its own transaction, so a handler answers only after
//! the change committed, and concurrent changes of one task cannot lose each other's fields: an
//! `UPDATE` sets only the columns it was given, under the row's lock.

use shared::Task;
use sqlx::{PgPool, SqlitePool, migrate::Migrator};
use tokio::task::JoinHandle;

use super::{Scope, StoreError, StoreFuture, TaskChanges, TaskDraft, TaskStore};

#[derive(Debug)]
pub(super) enum Pool {
    /// SQLite has one writer at a time: writes queue for the single connection of `writes` (in
    /// order, bounded by the acquire timeout) instead of several connections retrying for the
    /// file's write lock; reads use `reads` in parallel (WAL lets them run beside the writer).
    Sqlite {
        reads: SqlitePool,
        writes: SqlitePool,
    },
    Postgres(PgPool),
}

/// Runs the same sqlx expression on whichever engine `$pool` is, with `$conn` bound to the
/// pool for `reads` or `writes` (one and the same pool on PostgreSQL); each arm is type-checked
/// for its own engine.
macro_rules! on_pool {
    ($pool:expr, $access:ident, $conn:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite { $access: $conn, .. } => $body,
            Pool::Postgres($conn) => $body,
        }
    };
}

const LIST_ALL: &str = "SELECT id, title, completed, owner_id, owner_name FROM tasks ORDER BY id";
const LIST_OWNED: &str =
    "SELECT id, title, completed, owner_id, owner_name FROM tasks WHERE owner_id = $1 ORDER BY id";
/// `COALESCE` keeps a column the patch does not name, inside the same statement.
const UPDATE_ANY: &str = "UPDATE tasks SET title = COALESCE($1, title), completed = COALESCE($2, completed) WHERE id = $3 RETURNING id, title, completed, owner_id, owner_name";
const UPDATE_OWNED: &str = "UPDATE tasks SET title = COALESCE($1, title), completed = COALESCE($2, completed) WHERE id = $3 AND owner_id = $4 RETURNING id, title, completed, owner_id, owner_name";
const DELETE: &str = "DELETE FROM tasks WHERE id = $1";
/// Inserts only while fewer than `$4` tasks exist. On SQLite, writes are serialized, so the
/// count cannot change between the check and the insert; PostgreSQL takes [`CREATE_LOCK`] first.
const INSERT_BELOW_LIMIT: &str = "INSERT INTO tasks (title, owner_id, owner_name) SELECT $1, $2, $3 WHERE (SELECT COUNT(*) FROM tasks) < $4 RETURNING id, title, completed, owner_id, owner_name";
/// A transaction-scoped advisory lock that serializes task creation across every replica, so
/// two concurrent inserts cannot both see room for one more task.
const CREATE_LOCK: &str = "SELECT pg_advisory_xact_lock(7370013011116201)";

/// A task as every query returns it: `id, title, completed, owner_id, owner_name`.
type Row = (i64, String, bool, String, String);

fn task((id, title, completed, owner_id, owner_name): Row) -> Result<Task, StoreError> {
    Ok(Task {
        id: u64::try_from(id)
            .map_err(|_| StoreError::Unavailable(format!("negative task id {id} in the store")))?,
        title,
        completed,
        owner_id,
        owner_name,
    })
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

/// Tasks in an SQL database. Dropping it stops its background work (token refresh).
#[derive(Debug)]
pub struct SqlStore {
    pool: Pool,
    max_tasks: i64,
    background: Option<JoinHandle<()>>,
}

impl SqlStore {
    pub(super) fn new(pool: Pool, max_tasks: u64, background: Option<JoinHandle<()>>) -> Self {
        Self {
            pool,
            max_tasks: i64::try_from(max_tasks).unwrap_or(i64::MAX),
            background,
        }
    }

    /// Applies `migrator` (idempotent: already-applied migrations are checked, not re-run).
    pub(super) async fn migrate(
        &self,
        migrator: &Migrator,
    ) -> Result<(), sqlx::migrate::MigrateError> {
        on_pool!(&self.pool, writes, pool => migrator.run(pool).await)
    }

    async fn insert(&self, draft: TaskDraft) -> Result<Option<Row>, sqlx::Error> {
        match &self.pool {
            Pool::Sqlite { writes, .. } => {
                sqlx::query_as(INSERT_BELOW_LIMIT)
                    .bind(draft.title)
                    .bind(draft.owner_id)
                    .bind(draft.owner_name)
                    .bind(self.max_tasks)
                    .fetch_optional(writes)
                    .await
            }
            Pool::Postgres(pool) => {
                let mut transaction = pool.begin().await?;
                sqlx::query(CREATE_LOCK).execute(&mut *transaction).await?;
                let row = sqlx::query_as(INSERT_BELOW_LIMIT)
                    .bind(draft.title)
                    .bind(draft.owner_id)
                    .bind(draft.owner_name)
                    .bind(self.max_tasks)
                    .fetch_optional(&mut *transaction)
                    .await?;
                transaction.commit().await?;
                Ok(row)
            }
        }
    }
}

impl Drop for SqlStore {
    fn drop(&mut self) {
        if let Some(task) = &self.background {
            task.abort();
        }
    }
}

impl TaskStore for SqlStore {
    fn list<'a>(&'a self, scope: Scope<'a>) -> StoreFuture<'a, Vec<Task>> {
        Box::pin(async move {
            let rows: Vec<Row> = match scope {
                Scope::All => on_pool!(&self.pool, reads, pool => sqlx::query_as(LIST_ALL).fetch_all(pool).await),
                Scope::OwnedBy(owner) => on_pool!(&self.pool, reads, pool => sqlx::query_as(LIST_OWNED).bind(owner).fetch_all(pool).await),
            }
            .map_err(unavailable)?;
            rows.into_iter().map(task).collect()
        })
    }

    fn create(&self, draft: TaskDraft) -> StoreFuture<'_, Task> {
        Box::pin(async move {
            match self.insert(draft).await.map_err(unavailable)? {
                Some(row) => task(row),
                None => Err(StoreError::Full {
                    limit: usize::try_from(self.max_tasks).unwrap_or(usize::MAX),
                }),
            }
        })
    }

    fn update<'a>(
        &'a self,
        id: u64,
        scope: Scope<'a>,
        changes: TaskChanges,
    ) -> StoreFuture<'a, Option<Task>> {
        Box::pin(async move {
            // An id past i64::MAX cannot exist.
            let Ok(id) = i64::try_from(id) else {
                return Ok(None);
            };
            let TaskChanges { title, completed } = changes;
            let row: Option<Row> = match scope {
                Scope::All => on_pool!(&self.pool, writes, pool => sqlx::query_as(UPDATE_ANY)
                    .bind(title).bind(completed).bind(id)
                    .fetch_optional(pool).await),
                Scope::OwnedBy(owner) => {
                    on_pool!(&self.pool, writes, pool => sqlx::query_as(UPDATE_OWNED)
                    .bind(title).bind(completed).bind(id).bind(owner)
                    .fetch_optional(pool).await)
                }
            }
            .map_err(unavailable)?;
            row.map(task).transpose()
        })
    }

    fn delete(&self, id: u64) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let Ok(id) = i64::try_from(id) else {
                return Ok(false);
            };
            let deleted = on_pool!(&self.pool, writes, pool => sqlx::query(DELETE)
                .bind(id).execute(pool).await.map(|done| done.rows_affected()))
            .map_err(unavailable)?;
            Ok(deleted > 0)
        })
    }
}
