//! Where tasks live, behind [`TaskStore`] so the handlers do not care which store it is.
//!
//! The trait is async and fallible because durable stores (SQLite, PostgreSQL) are async and can
//! fail; every store error becomes a 503 (or 507 when full) in [`crate::error`].
//!
//! [`open`] picks the store `DATABASE_URL` names: [`MemoryStore`] (tests), [`SqliteStore`] or
//! [`PgStore`], migrated before the API serves its first request. The durable stores write
//! through a group commit ([`batch`]).

mod batch;
mod memory;
mod migrations;
mod postgres;
mod settings;
mod sql;
mod sqlite;
pub mod token;

use std::{fmt, future::Future, pin::Pin, sync::Arc};

pub use memory::MemoryStore;
pub use postgres::PgStore;
pub use settings::{BatchLimits, DEFAULT_DATABASE_URL, Database, PgAuth, PgTarget, StoreSettings};
use shared::Task;
pub use sqlite::SqliteStore;
use token::DbTokenSource;

pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or failed; the cause is logged, never sent.
    #[error("task store unavailable: {0}")]
    Unavailable(String),
    #[error("task store full ({limit} tasks)")]
    Full { limit: usize },
}

/// The store could not be opened at start-up (unreachable, not writable, migration failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot open the task store: {0}")]
pub struct OpenError(pub String);

/// Opens (creating and migrating if needed) the store `settings` name.
pub async fn open(settings: &StoreSettings) -> Result<Arc<dyn TaskStore>, OpenError> {
    match &settings.database {
        Database::Memory => {
            tracing::warn!(
                "DATABASE_URL=memory: tasks live in this process only and are lost when it stops; use it for tests, never in production"
            );
            let limit = usize::try_from(settings.max_tasks).unwrap_or(usize::MAX);
            Ok(Arc::new(MemoryStore::new(limit)))
        }
        Database::Sqlite { path } => {
            let store = sqlite::open(path, settings).await?;
            tracing::info!(path = %path.display(), "task store: SQLite (WAL, synchronous=FULL)");
            Ok(Arc::new(store))
        }
        Database::Postgres(target) => {
            let store = postgres::open(target, settings).await?;
            log_postgres(target);
            Ok(Arc::new(store))
        }
    }
}

/// Opens a PostgreSQL store that signs in with passwords from `tokens` (whatever
/// `target.auth` says): how tests stand in for Entra ID.
pub async fn open_postgres_with_tokens(
    target: &PgTarget,
    settings: &StoreSettings,
    tokens: Arc<dyn DbTokenSource>,
) -> Result<PgStore, OpenError> {
    let store = postgres::open_with_tokens(target, settings, tokens).await?;
    log_postgres(target);
    Ok(store)
}

fn log_postgres(target: &PgTarget) {
    let options = &target.options;
    tracing::info!(
        host = options.get_host(),
        port = options.get_port(),
        database = options.get_database().unwrap_or_default(),
        user = options.get_username(),
        auth = ?target.auth,
        "task store: PostgreSQL"
    );
}

/// Which tasks an operation may see: everyone's (Admin) or one owner's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    All,
    OwnedBy(&'a str),
}

impl Scope<'_> {
    pub fn includes(&self, task: &Task) -> bool {
        match self {
            Scope::All => true,
            Scope::OwnedBy(owner) => task.owner_id == *owner,
        }
    }
}

/// A validated task to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskDraft {
    pub title: String,
    pub owner_id: String,
    pub owner_name: String,
}

/// Validated changes; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskChanges {
    pub title: Option<String>,
    pub completed: Option<bool>,
}

pub trait TaskStore: Send + Sync + fmt::Debug {
    /// Tasks in `scope`, oldest first.
    fn list<'a>(&'a self, scope: Scope<'a>) -> StoreFuture<'a, Vec<Task>>;
    fn create(&self, draft: TaskDraft) -> StoreFuture<'_, Task>;
    /// Applies `changes` to task `id` if it is in `scope`, in one step (no window in which the
    /// owner check and the write disagree); `None` if there is no such task in scope.
    fn update<'a>(
        &'a self,
        id: u64,
        scope: Scope<'a>,
        changes: TaskChanges,
    ) -> StoreFuture<'a, Option<Task>>;
    /// Whether a task was deleted.
    fn delete(&self, id: u64) -> StoreFuture<'_, bool>;
}
