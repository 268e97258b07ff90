//! Where tasks live, behind [`TaskStore`] so the handlers do not care which store it is.
//!
//! The trait is async and fallible because durable stores (SQLite, PostgreSQL) are async and can
//! fail; every store error becomes a 503 (or 507 when full) in [`crate::error`].
//!
//! [`open`] picks the store `DATABASE_URL` names: [`MemoryStore`] (tests), [`SqliteStore`] or
//! [`PgStore`], migrated before the API serves its first request. The durable stores write
//! through a group commit ([`batch`]).

mod batch;
mod durable;
mod memory;
mod migrations;
mod pacing;
mod postgres;
mod settings;
mod sql;
mod sqlite;
pub mod token;
mod types;
mod wal_sync;

use std::sync::Arc;

pub use memory::MemoryStore;
pub use postgres::PgStore;
pub use settings::{BatchLimits, DEFAULT_DATABASE_URL, Database, PgAuth, PgTarget, StoreSettings};
pub use sqlite::SqliteStore;
use token::DbTokenSource;
pub use types::{OpenError, Scope, StoreError, StoreFuture, TaskChanges, TaskDraft, TaskStore};

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
            tracing::info!(path = %path.display(), "task store: SQLite (WAL, synced before every answer)");
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
