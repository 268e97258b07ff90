//! Operations: probes, the OpenAPI document, request ids, compression, request timeouts, and the
//! binary's start-up (`backend/.env`) and shutdown behaviour.

use std::time::Duration;

use reqwest::Method;
use tempfile::TempDir;
use testkit::{KeyServer, TestKey};
use tokio::{runtime::Runtime, task::JoinHandle};

use crate::{
    binary::{Running, assert_config_error, backend, serving},
    helpers::{SqliteWriteLock, TestApp, assert_error},
};

#[tokio::test]
async fn health_answers_healthy() {
    let app = TestApp::spawn().await;
    let reply = app.get("/health", None).await;
    assert_eq!(
        (reply.status, reply.body),
        (200, serde_json::json!({"status": "healthy"}))
    );
}

#[tokio::test]
async fn openapi_lists_every_route_and_schema() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json", None).await.body;
    let routes = [
        ("/health", "get"),
        ("/ready", "get"),
        ("/api/me", "get"),
        ("/api/tasks", "get"),
        ("/api/tasks", "post"),
        ("/api/tasks/{id}", "patch"),
        ("/api/tasks/{id}", "delete"),
        ("/api/openapi.json", "get"),
    ];
    let paths = doc["paths"].as_object().expect("paths");
    let listed: usize = paths
        .values()
        .map(|ops| ops.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(
        listed,
        routes.len(),
        "unexpected operations: {:?}",
        paths.keys()
    );
    for (path, method) in routes {
        assert!(
            doc["paths"][path][method].is_object(),
            "{method} {path} missing"
        );
    }
    for schema in ["Me", "Task", "NewTask", "TaskPatch", "ApiError", "Role"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema}"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    let protected = routes
        .iter()
        .filter(|(path, _)| path.starts_with("/api/t") || *path == "/api/me");
    for (path, method) in protected {
        let responses = &doc["paths"][path][method]["responses"];
        for status in ["401", "408", "500", "503"] {
            assert!(
                responses[status].is_object(),
                "{method} {path} documents {status}"
            );
        }
    }
    let create = &doc["paths"]["/api/tasks"]["post"]["responses"];
    for status in ["201", "400", "403", "413", "415", "422", "507"] {
        assert!(
            create[status].is_object(),
            "POST /api/tasks documents {status}"
        );
    }
    // Every route the document lists is served (none is documented but missing).
    for (path, method) in routes {
        let status = app
            .send(
                method.to_uppercase().parse().expect("method"),
                &path.replace("{id}", "1"),
                None,
                None,
            )
            .await
            .status;
        assert_ne!(status, 404, "{method} {path}");
        assert_ne!(status, 405, "{method} {path}");
    }
}

#[tokio::test]
async fn request_ids_are_kept_when_sane_and_made_otherwise() {
    let app = TestApp::spawn().await;
    let with_id = |id: &str| {
        app.request(Method::GET, "/health")
            .header("x-request-id", id)
    };
    assert_eq!(
        app.read(with_id("abc-123.x_y"))
            .await
            .header("x-request-id"),
        Some("abc-123.x_y")
    );
    for bad in ["has space", "a\"b", &"x".repeat(65)] {
        let reply = app.read(with_id(bad)).await;
        let id = reply.header("x-request-id").expect("an id");
        assert!(id != bad && id.len() == 36, "{bad:?} replaced by {id:?}");
    }
    let fresh = app.get("/health", None).await;
    assert_eq!(
        fresh.header("x-request-id").map(str::len),
        Some(36),
        "UUID when absent"
    );
}

#[tokio::test]
async fn responses_are_compressed_when_asked() {
    let app = TestApp::spawn().await;
    let request = app
        .request(Method::GET, "/api/openapi.json")
        .header("accept-encoding", "gzip");
    let response = request.send().await.expect("request");
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok()),
        Some("gzip")
    );
}

/// A request slower than `REQUEST_TIMEOUT_SECS` (a write waiting for a database lock held
/// elsewhere) answers 408 as an `ApiError`, with the CORS grant so the SPA can read it.
#[tokio::test]
async fn a_slow_request_times_out_with_an_api_error_the_browser_can_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("tasks.db");
    let app = TestApp::builder()
        .var("DATABASE_URL", &format!("sqlite://{}", database.display()))
        .var("DATABASE_TIMEOUT_SECS", "30")
        .var("REQUEST_TIMEOUT_SECS", "1")
        .start()
        .await;
    let token = app.token("editor", &["Editor"]);
    let lock = SqliteWriteLock::take(&database).await;
    let origin = "http://localhost:8080";
    let request = app
        .request(Method::POST, "/api/tasks")
        .bearer_auth(&token)
        .header("origin", origin)
        .header("content-type", "application/json")
        .body(r#"{"title": "behind a lock"}"#);
    let reply = app.read(request).await;
    assert_error(&reply, 408, "request_timeout", "1 s", "write behind a lock");
    assert_eq!(reply.header("access-control-allow-origin"), Some(origin));
    lock.release().await;
    assert_eq!(app.get("/api/tasks", Some(&token)).await.status, 200);
}

/// Without a single real variable, the binary runs from `backend/.env` in its working folder
/// (`RUST_LOG` included); a real variable wins over the file's value.
#[test]
fn backend_env_file_configures_the_binary_and_real_variables_win() {
    let runtime = Runtime::new().expect("runtime");
    let primary = TestKey::primary();
    let keys = runtime.block_on(KeyServer::start(&[&primary]));
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("backend")).expect("backend folder");
    let file: String = serving(&keys)
        .iter()
        .chain(&[("DATABASE_URL", "memory:"), ("RUST_LOG", "debug")])
        .map(|(name, value)| format!("{name}={value}\n"))
        .collect();
    std::fs::write(dir.path().join("backend/.env"), file).expect("write .env");
    let token = testkit::sign(&primary, &keys.claims("alice", &["Reader"]));
    let me_status = |real_vars: &[(&str, &str)]| {
        let mut command = backend();
        command
            .current_dir(dir.path())
            .envs(real_vars.iter().copied());
        let mut child = Running::spawn(command);
        let base = child.base_url();
        child.wait_for_message("signing keys loaded");
        let status = runtime.block_on(async {
            reqwest::Client::new()
                .get(format!("{base}/api/me"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("request")
                .status()
                .as_u16()
        });
        // A debug line: RUST_LOG=debug came from the file too.
        child.wait_for_message("request started");
        status
    };
    assert_eq!(me_status(&[]), 200, "tenant and API ids from backend/.env");
    let other_api = [(
        "AZURE_API_CLIENT_ID",
        "00000000-0000-4000-8000-00000000abcd",
    )];
    assert_eq!(
        me_status(&other_api),
        401,
        "the real AZURE_API_CLIENT_ID, not the file's, names the token's audience"
    );
}

#[test]
fn bad_configuration_exits_2_with_one_line_naming_the_variable() {
    let cases = [
        (vec![], "AZURE_TENANT_ID is not set"),
        (
            vec![("AZURE_TENANT_ID", testkit::TENANT_ID)],
            "AZURE_API_CLIENT_ID is not set",
        ),
        (
            vec![
                ("AZURE_TENANT_ID", "contoso"),
                ("AZURE_API_CLIENT_ID", testkit::CLIENT_ID),
            ],
            "AZURE_TENANT_ID=\"contoso\" is invalid",
        ),
    ];
    for (vars, expected) in cases {
        assert_config_error(&vars, expected);
    }
    // Valid ids, one bad variable.
    let one_bad = [
        (
            "AZURE_AUTHORITY_HOST",
            "http://login.example",
            "AZURE_AUTHORITY_HOST",
        ),
        (
            "RUST_LOG",
            "backend=loud",
            "RUST_LOG=\"backend=loud\" is invalid",
        ),
        ("ALLOWED_ORIGINS", "*", "would let any site call the API"),
    ];
    for (name, value, expected) in one_bad {
        let vars = [
            ("AZURE_TENANT_ID", testkit::TENANT_ID),
            ("AZURE_API_CLIENT_ID", testkit::CLIENT_ID),
            (name, value),
        ];
        assert_config_error(&vars, expected);
    }
}

/// The real binary: starts, serves, logs requests by id without ever logging a token, and on
/// SIGTERM finishes and exits 0 within the grace time.
#[test]
fn the_binary_serves_logs_safely_and_stops_on_sigterm() {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let primary = testkit::TestKey::primary();
    let keys = runtime.block_on(testkit::KeyServer::start(&[&primary]));
    let mut child = Running::start(
        &keys,
        &[
            ("RUST_LOG", "debug"),
            ("SHUTDOWN_TIMEOUT_SECS", "5"),
            ("DATABASE_URL", "memory:"),
        ],
    );
    let base = child.base_url();
    child.wait_for_message("signing keys loaded");

    let valid = testkit::sign(&primary, &keys.claims("alice", &["Reader"]));
    let forged = testkit::sign(
        &testkit::TestKey::foreign().with_kid("primary"),
        &keys.claims("eve", &["Admin"]),
    );
    let statuses = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut statuses = Vec::new();
        for (token, id) in [(&valid, "log-check-valid"), (&forged, "log-check-forged")] {
            let response = client
                .get(format!("{base}/api/tasks"))
                .bearer_auth(token)
                .header("x-request-id", id)
                .send()
                .await
                .expect("request");
            statuses.push(response.status().as_u16());
        }
        statuses
    });
    assert_eq!(statuses, [200, 401]);
    for (id, status) in [("log-check-valid", 200), ("log-check-forged", 401)] {
        let line = child.wait_for(|entry| {
            entry["fields"]["message"] == "request finished" && entry["fields"]["request_id"] == id
        });
        let fields = &line["fields"];
        assert_eq!(
            (&fields["method"], &fields["path"], &fields["status"]),
            (
                &serde_json::json!("GET"),
                &serde_json::json!("/api/tasks"),
                &serde_json::json!(status)
            ),
            "{line}"
        );
        assert!(fields["latency_ms"].as_f64().is_some(), "{line}");
        assert_eq!(line["level"], "INFO", "{line}");
    }
    let refused = child.wait_for_message("token refused");
    assert_eq!(
        refused["span"]["request_id"], "log-check-forged",
        "{refused}"
    );
    assert!(
        refused["fields"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("signature"),
        "{refused}"
    );

    child.terminate();
    let status = child.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "stops cleanly on SIGTERM");
    let signatures =
        [&valid, &forged].map(|token| token.rsplit('.').next().unwrap_or_default().to_owned());
    for line in &child.seen {
        assert!(
            !signatures
                .iter()
                .any(|signature| line.contains(signature.as_str())),
            "a token was logged: {line}"
        );
    }
    drop(keys);
}

/// A request refused for a passing reason (signing keys not loaded yet) is logged once, at warn,
/// with its cause and request id; the client gets the 503 without the internals. Any other 5xx
/// is logged at warn too.
#[test]
fn a_transient_failure_is_logged_at_warn_with_its_cause() {
    let runtime = Runtime::new().expect("runtime");
    let primary = TestKey::primary();
    let keys = runtime.block_on(KeyServer::start(&[&primary]));
    keys.set_available(false);
    let mut child = Running::start(&keys, &[("DATABASE_URL", "memory:")]);
    let base = child.base_url();
    child.wait_for_message("listening");

    let token = testkit::sign(&primary, &keys.claims("alice", &["Reader"]));
    let url = format!("{base}/api/tasks");
    let (status, body) = get_with_id(&runtime, &url, "keys-not-loaded", Some(&token));
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("keys_unavailable"), "{body}");

    let line = child.wait_for(|entry| entry["fields"]["request_id"] == "keys-not-loaded");
    assert_eq!(line["level"], "WARN", "{line}");
    assert_eq!(line["fields"]["message"], "request finished", "{line}");
    assert_eq!(line["fields"]["status"], 503, "{line}");
    assert_eq!(line["fields"]["cause"], "signing keys not loaded", "{line}");

    // A 5xx without a cause (not ready yet) is not passed off as routine either.
    let (ready, _) = get_with_id(&runtime, &format!("{base}/ready"), "not-ready", None);
    assert_eq!(ready, 503);
    let line = child.wait_for(|entry| entry["fields"]["request_id"] == "not-ready");
    assert_eq!(line["level"], "WARN", "{line}");
    assert!(line["fields"].get("cause").is_none(), "{line}");
}

/// The request line of a POST names the task it created (its path cannot), and a long path is
/// cut in the log so that a request cannot flood it.
#[test]
fn the_request_line_names_the_created_task_and_cuts_long_paths() {
    let runtime = Runtime::new().expect("runtime");
    let primary = TestKey::primary();
    let keys = runtime.block_on(KeyServer::start(&[&primary]));
    let mut child = Running::start(&keys, &[("DATABASE_URL", "memory:")]);
    let base = child.base_url();
    child.wait_for_message("signing keys loaded");

    let token = testkit::sign(&primary, &keys.claims("editor", &["Editor"]));
    let long_path = format!("/{}", "a".repeat(2_000));
    let created = runtime.block_on(async {
        reqwest::Client::new()
            .post(format!("{base}/api/tasks"))
            .bearer_auth(&token)
            .header("x-request-id", "log-check-create")
            .header("content-type", "application/json")
            .body(r#"{"title": "named in the log"}"#)
            .send()
            .await
            .expect("create")
            .text()
            .await
            .expect("task")
    });
    let (missing, _) = get_with_id(
        &runtime,
        &format!("{base}{long_path}"),
        "log-check-long",
        None,
    );
    assert_eq!(missing, 404);
    let created: serde_json::Value = serde_json::from_str(&created).expect("task JSON");

    let line = child.wait_for(|entry| entry["fields"]["request_id"] == "log-check-create");
    assert_eq!(line["fields"]["status"], 201, "{line}");
    assert_eq!(line["fields"]["task_id"], created["id"], "{line}");

    let line = child.wait_for(|entry| entry["fields"]["request_id"] == "log-check-long");
    let logged = line["fields"]["path"].as_str().unwrap_or_default();
    assert!(
        logged.starts_with("/aaaa") && logged.ends_with("... (cut)"),
        "{line}"
    );
    assert!(logged.len() < 300, "{} bytes logged", logged.len());
}

/// GET `url` with `x-request-id: id` (and `token` as bearer, if given): status and body.
fn get_with_id(runtime: &Runtime, url: &str, id: &str, token: Option<&str>) -> (u16, String) {
    runtime.block_on(async {
        let mut request = reqwest::Client::new().get(url).header("x-request-id", id);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    })
}

/// Text logs, the default format, carry no colour codes when they go to a pipe or a file.
#[test]
fn text_logs_into_a_pipe_are_plain() {
    let runtime = Runtime::new().expect("runtime");
    let keys = runtime.block_on(KeyServer::start(&[&TestKey::primary()]));
    let mut command = backend();
    command
        .envs(serving(&keys))
        .env("LOG_FORMAT", "text")
        .env("DATABASE_URL", "memory:");
    let mut child = Running::spawn(command);
    let line = child.wait_for_line(|line| line.contains("listening"));
    assert!(
        line.contains(" INFO backend: listening address=127.0.0.1:"),
        "{line:?}"
    );
    assert!(!line.contains('\u{1b}'), "{line:?}");
}

/// Longest wait for requests in flight after SIGTERM, in the shutdown tests.
const GRACE: Duration = Duration::from_secs(2);

/// The binary on a SQLite file, a POST in flight waiting for the write lock this test holds
/// (`DATABASE_TIMEOUT_SECS` and `REQUEST_TIMEOUT_SECS` well past [`GRACE`]), and SIGTERM sent.
struct SigtermDuringAWrite {
    runtime: Runtime,
    child: Running,
    lock: SqliteWriteLock,
    /// The POST's status, or the error of a request cut without an answer.
    post: JoinHandle<reqwest::Result<u16>>,
    _keys: KeyServer,
    _dir: TempDir,
}

impl SigtermDuringAWrite {
    fn start() -> Self {
        let runtime = Runtime::new().expect("runtime");
        let primary = TestKey::primary();
        let keys = runtime.block_on(KeyServer::start(&[&primary]));
        let dir = tempfile::tempdir().expect("temp dir");
        let database = dir.path().join("tasks.db");
        let url = format!("sqlite://{}", database.display());
        let mut child = Running::start(
            &keys,
            &[
                ("RUST_LOG", "debug"),
                ("DATABASE_URL", &url),
                ("DATABASE_TIMEOUT_SECS", "30"),
                ("REQUEST_TIMEOUT_SECS", "30"),
                ("SHUTDOWN_TIMEOUT_SECS", &GRACE.as_secs().to_string()),
            ],
        );
        let base = child.base_url();
        child.wait_for_message("signing keys loaded");
        let lock = runtime.block_on(SqliteWriteLock::take(&database));
        let token = testkit::sign(&primary, &keys.claims("editor", &["Editor"]));
        let post = runtime.spawn(async move {
            let response = reqwest::Client::new()
                .post(format!("{base}/api/tasks"))
                .bearer_auth(token)
                .header("x-request-id", "in-flight")
                .header("content-type", "application/json")
                .body(r#"{"title": "written during shutdown"}"#)
                .send()
                .await?;
            Ok(response.status().as_u16())
        });
        child.wait_for(|entry| {
            entry["fields"]["message"] == "request started"
                && entry["span"]["request_id"] == "in-flight"
        });
        child.terminate();
        child.wait_for_message("shutting down: finishing requests in flight");
        Self {
            runtime,
            child,
            lock,
            post,
            _keys: keys,
            _dir: dir,
        }
    }
}

/// A request that was in flight when SIGTERM came still gets its answer, then the process exits 0.
#[test]
fn sigterm_lets_a_request_in_flight_finish_with_its_answer() {
    let mut scene = SigtermDuringAWrite::start();
    scene.runtime.block_on(scene.lock.release());
    let answer = scene.runtime.block_on(scene.post).expect("join");
    assert_eq!(answer.ok(), Some(201), "the request in flight is answered");
    assert_eq!(scene.child.wait_exit(GRACE).code(), Some(0));
}

/// A request still running at the end of `SHUTDOWN_TIMEOUT_SECS` does not hold the process: it
/// exits 0 by then (plus a margin for a busy machine), saying so in its log.
#[test]
fn sigterm_stops_at_the_grace_time_even_when_a_request_takes_longer() {
    let mut scene = SigtermDuringAWrite::start();
    let status = scene.child.wait_exit(GRACE + Duration::from_secs(3));
    assert_eq!(status.code(), Some(0));
    scene
        .child
        .wait_for_message("requests still in flight at the shutdown deadline were dropped");
    let answer = scene.runtime.block_on(scene.post).expect("join");
    assert!(answer.is_err(), "the cut request got no answer: {answer:?}");
    scene.runtime.block_on(scene.lock.release());
}
