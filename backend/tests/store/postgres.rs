//! What the PostgreSQL store promises beyond the contract, against a throwaway cluster.

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime},
};

use backend::azure::{AzureSettings, CredentialKind};
use backend::store::{
    self, Database, PgAuth, Scope, StoreError, TaskStore,
    token::{DbToken, DbTokenSource, TokenFuture},
};
use testkit::postgres::TestPostgres;

use crate::support::{
    draft, first_migration, new_postgres_database, open, postgres, settings, shipped_migrations,
    the_count_starts_from_existing_tasks,
};

/// Migrations run once on an empty database; a second start finds them applied and keeps the
/// data; replicas starting at the same moment take turns (sqlx's advisory lock) and all start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent_and_safe_for_replicas_starting_together() {
    let cluster = TestPostgres::start();
    let url = new_postgres_database(&cluster, "tasks");
    let config = settings(postgres(&url, PgAuth::Password), 100);

    let (a, b, c) = tokio::join!(
        store::open(&config),
        store::open(&config),
        store::open(&config)
    );
    let stores = [a, b, c].map(|result| result.expect("every replica starts"));
    let task = stores[1]
        .create(draft("alice", "kept"))
        .await
        .expect("create");
    drop(stores);
    let applied = (1..=shipped_migrations("postgres"))
        .map(|version| format!("{version}|t"))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(
        cluster.psql(
            "tasks",
            "SELECT version, success FROM _sqlx_migrations ORDER BY version"
        ),
        applied,
        "each migration applied once"
    );

    let again = open(&config).await;
    assert_eq!(
        again.list(Scope::All).await.expect("list"),
        std::slice::from_ref(&task)
    );
    let next = again
        .create(draft("bob", "after restart"))
        .await
        .expect("create");
    assert!(next.id > task.id);
    assert_eq!(
        cluster.psql("tasks", "SELECT COUNT(*) FROM _sqlx_migrations"),
        shipped_migrations("postgres").to_string()
    );
}

/// A database made before the task count (migration 1 only, three tasks): after the upgrade,
/// `TASKS_MAX` counts the tasks that were there and follows deletes made by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgraded_database_counts_its_existing_tasks() {
    let cluster = TestPostgres::start();
    let url = new_postgres_database(&cluster, "tasks");
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    first_migration("postgres")
        .run(&pool)
        .await
        .expect("the first migration");
    cluster.psql(
        "tasks",
        "INSERT INTO tasks (title, owner_id, owner_name) VALUES ('1', 'a', 'A'), ('2', 'a', 'A'), ('3', 'a', 'A')",
    );

    let store = open(&settings(postgres(&url, PgAuth::Password), 4)).await;
    the_count_starts_from_existing_tasks(store, async || {
        cluster.psql("tasks", "DELETE FROM tasks WHERE title = '1'");
    })
    .await;
}

/// The server going away is a store error (the API's 503), not a hang or a crash; when it is
/// back, the same store serves again without a restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_an_error_within_the_timeout_and_the_store_recovers() {
    let mut cluster = TestPostgres::start();
    let url = new_postgres_database(&cluster, "tasks");
    let mut config = settings(postgres(&url, PgAuth::Password), 100);
    config.timeout = Duration::from_secs(2);
    let store = open(&config).await;
    let task = store
        .create(draft("alice", "before"))
        .await
        .expect("create");

    cluster.stop();
    let started = Instant::now();
    let failed = store.list(Scope::All).await;
    assert!(
        matches!(failed, Err(StoreError::Unavailable(_))),
        "{failed:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "failed within the bound, took {:?}",
        started.elapsed()
    );

    cluster.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    let tasks = loop {
        match store.list(Scope::All).await {
            Ok(tasks) => break tasks,
            Err(error) => assert!(Instant::now() < deadline, "no recovery: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(tasks, [task]);
}

/// Stands in for Entra ID: hands out the role's current password as the "token", valid for
/// `lifetime`.
#[derive(Debug)]
struct StubTokens {
    password: Mutex<String>,
    lifetime: Duration,
    calls: AtomicUsize,
}

impl StubTokens {
    fn new(password: &str, lifetime: Duration) -> Arc<Self> {
        Arc::new(Self {
            password: Mutex::new(password.to_owned()),
            lifetime,
            calls: AtomicUsize::new(0),
        })
    }

    fn rotate(&self, password: &str) {
        *self.password.lock().unwrap_or_else(PoisonError::into_inner) = password.to_owned();
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

impl DbTokenSource for StubTokens {
    fn token(&self) -> TokenFuture<'_> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let password = self
            .password
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let token = DbToken::new(password, SystemTime::now() + self.lifetime);
        Box::pin(async move { Ok(token) })
    }
}

/// The token path against a server that checks passwords: the store signs in with the token,
/// fetches a new one before it expires, and connections opened after the password changed use
/// the new one. With a token source that never hands out a new token, the same sequence fails,
/// so the test can tell the difference.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_connections_sign_in_with_a_refreshed_token() {
    let cluster = TestPostgres::start();
    cluster.create_owner("api-identity", "token-one", "tasks");
    let url = cluster.url("api-identity", None, "tasks");
    let entra = PgAuth::Entra {
        azure: AzureSettings {
            credential: CredentialKind::DeveloperTools,
            http_timeout: Duration::from_secs(10),
        },
    };
    let Database::Postgres(target) = postgres(&url, entra) else {
        panic!("a PostgreSQL target");
    };
    let config = settings(Database::Postgres(target.clone()), 100);

    let refreshing = StubTokens::new("token-one", Duration::from_secs(2));
    let store = store::open_postgres_with_tokens(&target, &config, refreshing.clone())
        .await
        .expect("sign in with the first token");
    let task = store.create(draft("alice", "kept")).await.expect("create");

    let frozen = StubTokens::new("token-one", Duration::from_secs(3600));
    let stale = store::open_postgres_with_tokens(&target, &config, frozen.clone())
        .await
        .expect("sign in with the first token");

    // The password changes (as an Entra token does at each refresh), then every open
    // connection is closed, so the next query needs a new sign-in.
    refreshing.rotate("token-two");
    cluster.psql(
        "postgres",
        "ALTER ROLE \"api-identity\" PASSWORD 'token-two'",
    );
    let seen = refreshing.calls();
    let deadline = Instant::now() + Duration::from_secs(10);
    while refreshing.calls() <= seen {
        assert!(Instant::now() < deadline, "no refresh within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    cluster.psql(
        "postgres",
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'api-identity'",
    );

    assert_eq!(
        store
            .list(Scope::All)
            .await
            .expect("signed in with the new token"),
        [task]
    );
    let refused = stale.list(Scope::All).await;
    match refused {
        Err(StoreError::Unavailable(message)) => {
            assert!(
                message.contains("password authentication failed"),
                "{message}"
            );
            assert!(
                !message.contains("token-one"),
                "no secret in errors: {message}"
            );
        }
        other => panic!("a token that was never refreshed must fail: {other:?}"),
    }
    assert_eq!(
        frozen.calls(),
        1,
        "a long-lived token is not refreshed early"
    );
}
