//! Durable storage through the real binary: what is acknowledged survives SIGKILL (also in the
//! middle of a load of concurrent creates), an outage of
//! the database is a 503 with its cause in the log, a bad `DATABASE_URL` stops the start, and in
//! Entra mode the API signs in to PostgreSQL with a managed identity token.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use shared::Task;
use testkit::{KeyServer, TestKey, azure::IdentityEndpoint, postgres::TestPostgres};

use crate::binary::{Running, assert_config_error};

/// An HTTP client for one binary, acting as one Admin.
struct Client {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Client {
    fn new(base: String, keys: &KeyServer, key: &TestKey) -> Self {
        Client {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .no_proxy()
                .build()
                .expect("client"),
            base,
            token: testkit::sign(key, &keys.claims("admin-1", &["Admin"])),
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, body)
    }

    async fn tasks(&self) -> (u16, Value) {
        self.send(reqwest::Method::GET, "/api/tasks", None).await
    }

    async fn create(&self, title: &str) -> (u16, Value) {
        let body = json!({ "title": title });
        self.send(reqwest::Method::POST, "/api/tasks", Some(body))
            .await
    }
}

fn task(body: Value) -> Task {
    serde_json::from_value(body).expect("a task")
}

/// Creates, changes and deletes tasks, returning what the API acknowledged; the last request
/// is a create, answered just before the caller kills the process.
async fn acknowledged_writes(client: &Client) -> BTreeMap<u64, Task> {
    let mut expected = BTreeMap::new();
    for i in 0..12 {
        let (status, body) = client.create(&format!("task {i}")).await;
        assert_eq!(status, 201, "{body}");
        let created = task(body);
        expected.insert(created.id, created);
    }
    let ids: Vec<u64> = expected.keys().copied().collect();
    for (n, id) in ids.iter().enumerate().take(6) {
        let patch = if n % 2 == 0 {
            json!({"completed": true})
        } else {
            json!({"title": format!("renamed {n}")})
        };
        let (status, body) = client
            .send(
                reqwest::Method::PATCH,
                &format!("/api/tasks/{id}"),
                Some(patch),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        expected.insert(*id, task(body));
    }
    for id in &ids[6..9] {
        let (status, _) = client
            .send(reqwest::Method::DELETE, &format!("/api/tasks/{id}"), None)
            .await;
        assert_eq!(status, 204);
        expected.remove(id);
    }
    let (status, body) = client.create("the last one").await;
    assert_eq!(status, 201, "{body}");
    let last = task(body);
    expected.insert(last.id, last);
    expected
}

/// SIGKILL right after the last acknowledged write, then a restart on the same database:
/// every acknowledged create, change and delete is there, and ids continue past the old ones.
fn acknowledged_writes_survive_sigkill(database_url: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let key = TestKey::primary();
    let keys = runtime.block_on(KeyServer::start(&[&key]));
    let vars = [("DATABASE_URL", database_url)];

    let mut api = Running::start(&keys, &vars);
    let client = Client::new(api.base_url(), &keys, &key);
    let expected = runtime.block_on(acknowledged_writes(&client));
    api.kill_9();

    let mut api = Running::start(&keys, &vars);
    let client = Client::new(api.base_url(), &keys, &key);
    runtime.block_on(async {
        let (status, body) = client.tasks().await;
        assert_eq!(status, 200, "{body}");
        let listed: Vec<Task> = serde_json::from_value(body).expect("tasks");
        let wanted: Vec<Task> = expected.values().cloned().collect();
        assert_eq!(listed, wanted, "after SIGKILL and restart");
        let (status, body) = client.create("after restart").await;
        assert_eq!(status, 201);
        let highest = expected.keys().max().copied().unwrap_or_default();
        assert!(
            task(body).id > highest,
            "ids are not reused after a restart"
        );
    });
}

#[test]
fn sqlite_keeps_acknowledged_writes_through_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/data/tasks.db", dir.path().display());
    acknowledged_writes_survive_sigkill(&url);
}

#[test]
fn postgres_keeps_acknowledged_writes_through_sigkill() {
    let cluster = TestPostgres::start();
    cluster.create_owner("api", "api-password", "tasks");
    acknowledged_writes_survive_sigkill(&cluster.url("api", Some("api-password"), "tasks"));
}

/// Connections posting at once when the API is killed under load.
const LOAD_CONNECTIONS: usize = 32;
/// Acknowledged creates to wait for before the kill.
const ACKNOWLEDGED_BEFORE_KILL: usize = 400;

/// Posts new tasks one after another until a request fails (the API is gone), recording every
/// task whose 201 came back in full.
async fn post_until_refused(
    client: Arc<Client>,
    connection: usize,
    acknowledged: Arc<Mutex<Vec<Task>>>,
) {
    for n in 0.. {
        let sent = client
            .http
            .post(format!("{}/api/tasks", client.base))
            .bearer_auth(&client.token)
            .header("content-type", "application/json")
            .body(json!({ "title": format!("connection {connection} task {n}") }).to_string())
            .send()
            .await;
        let Ok(response) = sent else { return };
        let status = response.status().as_u16();
        let Ok(body) = response.bytes().await else {
            return;
        };
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let created: Task = serde_json::from_slice(&body).expect("a task");
        acknowledged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(created);
    }
}

/// SIGKILL while 32 connections post new tasks (a batch is being written as likely as not);
/// after a restart on the same database, every task whose 201 a client received is there as it
/// was answered. Tasks whose answer died with the process may or may not be there: at most one
/// per connection.
fn acknowledged_creates_survive_sigkill_under_load(database_url: &str) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let key = TestKey::primary();
    let keys = runtime.block_on(KeyServer::start(&[&key]));
    let vars = [("DATABASE_URL", database_url), ("TASKS_MAX", "10000000")];

    let mut api = Running::start(&keys, &vars);
    let client = Arc::new(Client::new(api.base_url(), &keys, &key));
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let posters: Vec<_> = (0..LOAD_CONNECTIONS)
        .map(|connection| {
            runtime.spawn(post_until_refused(
                client.clone(),
                connection,
                acknowledged.clone(),
            ))
        })
        .collect();
    let count = || {
        acknowledged
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while count() < ACKNOWLEDGED_BEFORE_KILL {
        assert!(
            Instant::now() < deadline,
            "only {} creates in 60 s",
            count()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    api.kill_9();
    for poster in posters {
        runtime
            .block_on(poster)
            .expect("a poster stops when the API is gone");
    }
    let acknowledged: BTreeMap<u64, Task> = acknowledged
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .drain(..)
        .map(|task| (task.id, task))
        .collect();

    let mut api = Running::start(&keys, &vars);
    let client = Client::new(api.base_url(), &keys, &key);
    let (status, body) = runtime.block_on(client.tasks());
    assert_eq!(status, 200, "{body}");
    let listed: BTreeMap<u64, Task> = serde_json::from_value::<Vec<Task>>(body)
        .expect("tasks")
        .into_iter()
        .map(|task| (task.id, task))
        .collect();
    let lost: Vec<&Task> = acknowledged
        .values()
        .filter(|task| listed.get(&task.id) != Some(task))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged tasks lost or changed, e.g. {:?}",
        lost.len(),
        acknowledged.len(),
        lost.first()
    );
    let unanswered = listed.len() - acknowledged.len();
    assert!(
        unanswered <= LOAD_CONNECTIONS,
        "{unanswered} tasks that were never acknowledged: more than one per connection"
    );
}

#[test]
fn sqlite_keeps_every_acknowledged_create_through_sigkill_under_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/tasks.db", dir.path().display());
    acknowledged_creates_survive_sigkill_under_load(&url);
}

#[test]
fn postgres_keeps_every_acknowledged_create_through_sigkill_under_load() {
    let cluster = TestPostgres::start();
    cluster.create_owner("api", "api-password", "tasks");
    acknowledged_creates_survive_sigkill_under_load(&cluster.url(
        "api",
        Some("api-password"),
        "tasks",
    ));
}

/// PostgreSQL stops while the API runs: task requests get 503 `store_unavailable` (within the
/// store's timeout, not a hang), the cause is logged, and service resumes when it is back.
#[test]
fn a_database_outage_is_a_503_with_the_cause_logged_and_service_resumes() {
    let mut cluster = TestPostgres::start();
    cluster.create_owner("api", "api-password", "tasks");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let key = TestKey::primary();
    let keys = runtime.block_on(KeyServer::start(&[&key]));
    let url = cluster.url("api", Some("api-password"), "tasks");
    let mut api = Running::start(
        &keys,
        &[
            ("DATABASE_URL", url.as_str()),
            ("DATABASE_TIMEOUT_SECS", "2"),
        ],
    );
    let client = Client::new(api.base_url(), &keys, &key);
    let created = runtime.block_on(client.create("before the outage"));
    assert_eq!(created.0, 201);

    cluster.stop();
    let started = Instant::now();
    let (status, body) = runtime.block_on(client.tasks());
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("store_unavailable")),
        "{body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    let logged = api.wait_for(|entry| {
        entry["fields"]["message"] == "request finished" && entry["fields"]["status"] == 503
    });
    let cause = logged["fields"]["cause"].as_str().unwrap_or_default();
    assert!(cause.contains("task store unavailable: "), "{logged}");
    assert_eq!(logged["level"], "ERROR", "{logged}");
    assert!(
        logged["fields"]["request_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{logged}"
    );
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "no internals in the answer: {body}"
    );

    cluster.restart();
    let deadline = Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let (status, body) = runtime.block_on(client.tasks());
        if status == 200 {
            break body;
        }
        assert!(Instant::now() < deadline, "no recovery: {status} {body}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(listed[0]["title"], "before the outage");
    assert!(
        api.seen.iter().all(|line| !line.contains("api-password")),
        "the password was logged"
    );
}

#[test]
fn a_bad_database_url_stops_the_start_with_exit_2_and_one_line_naming_it() {
    let cases = [
        (
            vec![("DATABASE_URL", "mysql://u:hunter2@db.example/tasks")],
            "DATABASE_URL",
        ),
        (
            vec![(
                "DATABASE_URL",
                "postgres://u:hunter2@db.example/tasks?sslmode=require",
            )],
            "verify-full",
        ),
        (vec![("DATABASE_URL", "sqlite::memory:")], "memory:"),
        (
            vec![
                ("DATABASE_URL", "sqlite://t.db"),
                ("DATABASE_AUTH", "entra"),
            ],
            "postgres://",
        ),
        (vec![("DATABASE_AUTH", "token")], "DATABASE_AUTH"),
        (vec![("TASKS_MAX", "0")], "TASKS_MAX"),
    ];
    for (vars, expected) in cases {
        let ids = [
            ("AZURE_TENANT_ID", testkit::TENANT_ID),
            ("AZURE_API_CLIENT_ID", testkit::CLIENT_ID),
        ];
        let vars: Vec<(&str, &str)> = ids.into_iter().chain(vars).collect();
        let stderr = assert_config_error(&vars, expected);
        assert!(
            !stderr.contains("hunter2"),
            "a password was echoed: {stderr}"
        );
    }
}

/// A database that cannot be reached or created at start-up stops the process (exit 1) with
/// one log line saying which and why, within the store's timeout.
#[test]
fn an_unreachable_or_unwritable_store_stops_the_start_with_exit_1() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let keys = runtime.block_on(KeyServer::start(&[&TestKey::primary()]));
    let dir = tempfile::tempdir().expect("temp dir");
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").expect("write");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let cases = [
        (
            format!("postgres://api:hunter2@127.0.0.1:{closed_port}/tasks"),
            format!("cannot connect to PostgreSQL api@127.0.0.1:{closed_port}/tasks"),
        ),
        (
            format!("sqlite://{}/tasks.db", blocker.display()),
            format!("cannot create the folder {}", blocker.display()),
        ),
    ];
    for (url, expected) in cases {
        let mut api = Running::start(
            &keys,
            &[("DATABASE_URL", &url), ("DATABASE_TIMEOUT_SECS", "2")],
        );
        let status = api.wait_exit(Duration::from_secs(15));
        assert_eq!(status.code(), Some(1), "{url}: {:?}", api.seen);
        let errors: Vec<&String> = api
            .seen
            .iter()
            .filter(|l| l.contains("\"ERROR\""))
            .collect();
        assert_eq!(errors.len(), 1, "{:?}", api.seen);
        assert!(errors[0].contains(&expected), "{expected}: {}", errors[0]);
        assert!(!errors[0].contains("hunter2"), "{}", errors[0]);
    }
}

/// `DATABASE_AUTH=entra` end to end: the binary asks the platform's identity endpoint for a
/// token for Azure Database for PostgreSQL (as a user-assigned identity when
/// `AZURE_MANAGED_IDENTITY_CLIENT_ID` is set), signs in with it as the password, and serves.
#[test]
fn entra_mode_signs_in_with_the_managed_identity_token() {
    let cluster = TestPostgres::start();
    let token = "eyJ0eXAi.pretend-entra-token.sig";
    cluster.create_owner("ca-entra-rbac-api", token, "tasks");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let key = TestKey::primary();
    let keys = runtime.block_on(KeyServer::start(&[&key]));
    let identity = runtime.block_on(IdentityEndpoint::for_resource(
        "https://ossrdbms-aad.database.windows.net",
        token,
    ));
    let client_id = "11112222-3333-4444-5555-666677778888";
    let url = cluster.url("ca-entra-rbac-api", None, "tasks");
    let mut api = Running::start(
        &keys,
        &[
            ("DATABASE_URL", url.as_str()),
            ("DATABASE_AUTH", "entra"),
            ("AZURE_MANAGED_IDENTITY_CLIENT_ID", client_id),
            ("IDENTITY_ENDPOINT", identity.endpoint()),
            ("IDENTITY_HEADER", identity.header()),
        ],
    );
    let client = Client::new(api.base_url(), &keys, &key);
    runtime.block_on(async {
        let (status, body) = client.create("via Entra").await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = client.tasks().await;
        assert_eq!(
            (status, body[0]["title"].as_str()),
            (200, Some("via Entra"))
        );
    });
    // The stand-in refuses a wrong X-IDENTITY-HEADER, api-version or resource: a task created
    // means the API asked exactly as Container Apps expects.
    let asked = identity.requests();
    let query = asked.first().expect("the identity endpoint was asked");
    assert_eq!(query.get("client_id").map(String::as_str), Some(client_id));
    assert!(
        api.seen
            .iter()
            .all(|line| !line.contains("pretend-entra-token")),
        "the token was logged"
    );
}
