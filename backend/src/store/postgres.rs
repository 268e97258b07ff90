//! The PostgreSQL store, with a password or with Entra ID access tokens as passwords
//! ([`super::token`]).
//!
//! Reads run on the pool; writes go through the group commit ([`super::batch`]), one
//! transaction per batch on a connection of the same pool, committed with
//! `synchronous_commit=on` (set on every connection, whatever the server's default): the commit
//! returns once the WAL is flushed.

use std::sync::Arc;

use secrecy::ExposeSecret;
use shared::Task;
use sqlx::{
    PgPool, Postgres, Transaction,
    postgres::{PgConnectOptions, PgPoolOptions},
};
use tokio::task::JoinHandle;

use crate::azure;

use super::{
    batch::{BatchError, Engine, Outcome, TaskCount, Write, Writer},
    durable::{DurableStore, Reads},
    migrations,
    settings::{PgAuth, PgTarget, StoreSettings},
    sql,
    token::{DbTokenSource, EntraTokenSource, fetch, spawn_refresher},
    types::{OpenError, Scope, StoreError, StoreFuture, TaskChanges, TaskDraft},
};

/// Locks the count of tasks until the batch commits: creation is serialized across every
/// replica, so two batches cannot both see room for one more task.
const COUNT_FOR_UPDATE: &str = "SELECT n FROM task_count FOR UPDATE";

/// Tasks in PostgreSQL: read on the pool, written by the group commit.
pub type PgStore = DurableStore<PoolReads>;

/// Reads on the pool, and the token refresh that keeps the pool's new connections signing in:
/// dropping the store stops it.
#[derive(Debug)]
pub struct PoolReads {
    pool: PgPool,
    refresher: Option<JoinHandle<()>>,
}

impl Drop for PoolReads {
    fn drop(&mut self) {
        if let Some(task) = &self.refresher {
            task.abort();
        }
    }
}

pub(super) async fn open(
    target: &PgTarget,
    settings: &StoreSettings,
) -> Result<PgStore, OpenError> {
    match &target.auth {
        PgAuth::Password => {
            let pool = pool_options(settings)
                .connect_with(connect_options(target, settings))
                .await
                .map_err(|e| cannot_connect(target, e))?;
            start(pool, None, target, settings).await
        }
        PgAuth::Entra { azure } => {
            let identity = |e: &dyn std::fmt::Display| {
                OpenError(format!(
                    "cannot set up the Azure identity ({}): {e}",
                    azure.credential
                ))
            };
            let options = azure::client_options(azure).map_err(|e| identity(&e))?;
            let credential = azure::credential(azure, &options).map_err(|e| identity(&e))?;
            let tokens = Arc::new(EntraTokenSource::new(credential));
            open_with_tokens(target, settings, tokens).await
        }
    }
}

/// Opens the store signing in with passwords from `tokens`, refreshed before they expire.
pub(super) async fn open_with_tokens(
    target: &PgTarget,
    settings: &StoreSettings,
    tokens: Arc<dyn DbTokenSource>,
) -> Result<PgStore, OpenError> {
    let first = fetch(tokens.as_ref())
        .await
        .map_err(|e| OpenError(format!("{} ({})", e, describe(target))))?;
    let base = connect_options(target, settings);
    let pool = pool_options(settings)
        .connect_with(base.clone().password(first.secret.expose_secret()))
        .await
        .map_err(|e| cannot_connect(target, e))?;
    let refresher = spawn_refresher(pool.clone(), base, tokens, first.expires_at);
    start(pool, Some(refresher), target, settings).await
}

/// Migrates, then starts the writer.
async fn start(
    pool: PgPool,
    refresher: Option<JoinHandle<()>>,
    target: &PgTarget,
    settings: &StoreSettings,
) -> Result<PgStore, OpenError> {
    // sqlx holds a PostgreSQL advisory lock while it migrates, so replicas starting together
    // take turns; the later ones find the migrations applied.
    let migrated = migrations::postgres().run(&pool).await;
    if let Err(e) = migrated {
        if let Some(task) = refresher {
            task.abort();
        }
        return Err(OpenError(format!(
            "cannot migrate {}: {e}",
            describe(target)
        )));
    }
    let engine = PgEngine {
        pool: pool.clone(),
        max_tasks: i64::try_from(settings.max_tasks).unwrap_or(i64::MAX),
    };
    Ok(DurableStore::new(
        PoolReads { pool, refresher },
        Writer::spawn(engine, settings.batch, settings.timeout, settings.max_tasks),
    ))
}

fn pool_options(settings: &StoreSettings) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(settings.max_connections)
        .acquire_timeout(settings.timeout)
}

/// The URL's options, plus server-side bounds (no statement, and no transaction left idle, may
/// hold a connection longer than the store's timeout) and durable commits.
fn connect_options(target: &PgTarget, settings: &StoreSettings) -> PgConnectOptions {
    let millis = settings.timeout.as_millis().to_string();
    let mut options = target.options.clone().options([
        ("statement_timeout", millis.as_str()),
        ("idle_in_transaction_session_timeout", millis.as_str()),
        ("synchronous_commit", "on"),
    ]);
    if options.get_application_name().is_none() {
        options = options.application_name("tasks-api");
    }
    options
}

fn describe(target: &PgTarget) -> String {
    let options = &target.options;
    format!(
        "PostgreSQL {}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}

fn cannot_connect(target: &PgTarget, error: sqlx::Error) -> OpenError {
    OpenError(format!("cannot connect to {}: {error}", describe(target)))
}

/// A task as every query returns it: `id, title, completed, owner_id, owner_name`.
type Row = (i64, String, bool, String, String);

fn task((id, title, completed, owner_id, owner_name): Row) -> Result<Task, sqlx::Error> {
    Ok(Task {
        id: id_of(id)?,
        title,
        completed,
        owner_id,
        owner_name,
    })
}

fn id_of(id: i64) -> Result<u64, sqlx::Error> {
    u64::try_from(id).map_err(|_| sqlx::Error::Decode(format!("negative task id {id}").into()))
}

fn unavailable(error: sqlx::Error) -> StoreError {
    StoreError::Unavailable(error.to_string())
}

fn failed(error: sqlx::Error) -> BatchError {
    BatchError::Failed(unavailable(error))
}

/// The group commit's writer: one transaction per batch.
#[derive(Debug)]
struct PgEngine {
    pool: PgPool,
    max_tasks: i64,
}

impl Engine for PgEngine {
    async fn commit(&mut self, writes: &[Write]) -> Result<Vec<Outcome>, BatchError> {
        let mut transaction = self.pool.begin().await.map_err(failed)?;
        let mut count = TaskCount::new(self.max_tasks);
        let mut outcomes = Vec::with_capacity(writes.len());
        for (index, write) in writes.iter().enumerate() {
            let outcome = apply_one(&mut transaction, write, &mut count)
                .await
                .map_err(|error| {
                    // SQLSTATE class 23: integrity constraint violation.
                    let refused = error
                        .as_database_error()
                        .and_then(|e| e.code())
                        .is_some_and(|code| code.starts_with("23"));
                    if refused {
                        BatchError::Refused {
                            index,
                            error: unavailable(error),
                        }
                    } else {
                        failed(error)
                    }
                })?;
            outcomes.push(outcome);
        }
        transaction.commit().await.map_err(failed)?;
        Ok(outcomes)
    }
}

/// One write; the batch's first create reads (and locks) the count of tasks.
async fn apply_one(
    transaction: &mut Transaction<'static, Postgres>,
    write: &Write,
    count: &mut TaskCount,
) -> Result<Outcome, sqlx::Error> {
    Ok(match write {
        Write::Create(TaskDraft {
            title,
            owner_id,
            owner_name,
        }) => {
            let tasks = match count.known() {
                Some(tasks) => tasks,
                None => {
                    sqlx::query_scalar(COUNT_FOR_UPDATE)
                        .fetch_one(&mut **transaction)
                        .await?
                }
            };
            if count.room(tasks) == 0 {
                return Ok(Outcome::Full);
            }
            let id: i64 = sqlx::query_scalar(sql::INSERT)
                .bind(title)
                .bind(owner_id)
                .bind(owner_name)
                .fetch_one(&mut **transaction)
                .await?;
            count.created(1);
            Outcome::Created(id_of(id)?)
        }
        Write::Update { id, owner, changes } => {
            let TaskChanges { title, completed } = changes;
            let query = match owner {
                None => sqlx::query_as(sql::UPDATE_ANY)
                    .bind(title)
                    .bind(completed)
                    .bind(id),
                Some(owner) => sqlx::query_as(sql::UPDATE_OWNED)
                    .bind(title)
                    .bind(completed)
                    .bind(id)
                    .bind(owner),
            };
            let row: Option<Row> = query.fetch_optional(&mut **transaction).await?;
            Outcome::Updated(row.map(task).transpose()?)
        }
        Write::Delete { id } => {
            let deleted = sqlx::query(sql::DELETE)
                .bind(id)
                .execute(&mut **transaction)
                .await?
                .rows_affected()
                > 0;
            if deleted {
                count.deleted();
            }
            Outcome::Deleted(deleted)
        }
    })
}

impl Reads for PoolReads {
    fn list<'a>(&'a self, scope: Scope<'a>) -> StoreFuture<'a, Vec<Task>> {
        Box::pin(async move {
            let rows: Vec<Row> = match scope {
                Scope::All => sqlx::query_as(sql::LIST_ALL).fetch_all(&self.pool).await,
                Scope::OwnedBy(owner) => {
                    sqlx::query_as(sql::LIST_OWNED)
                        .bind(owner)
                        .fetch_all(&self.pool)
                        .await
                }
            }
            .map_err(unavailable)?;
            rows.into_iter()
                .map(task)
                .collect::<Result<_, _>>()
                .map_err(unavailable)
        })
    }
}
