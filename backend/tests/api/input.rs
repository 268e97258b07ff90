//! Bad input: a specific `ApiError` naming what to fix, and nothing created or changed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_error};

/// (case, raw body, content type, expected status, expected code, word the message must contain)
type BadBody = (
    &'static str,
    Vec<u8>,
    &'static str,
    u16,
    &'static str,
    &'static str,
);

fn bad_bodies() -> Vec<BadBody> {
    let json = "application/json";
    vec![
        (
            "malformed JSON",
            b"{\"title\": ".to_vec(),
            json,
            400,
            "invalid_json",
            "EOF",
        ),
        (
            "not an object",
            b"[\"title\"]".to_vec(),
            json,
            422,
            "invalid_field",
            "object",
        ),
        (
            "title is a number",
            br#"{"title": 42}"#.to_vec(),
            json,
            422,
            "invalid_field",
            "title",
        ),
        (
            "title is null",
            br#"{"title": null}"#.to_vec(),
            json,
            422,
            "invalid_field",
            "title",
        ),
        (
            "missing title",
            b"{}".to_vec(),
            json,
            422,
            "invalid_field",
            "title",
        ),
        (
            "unknown field",
            br#"{"title": "a", "owner_id": "x"}"#.to_vec(),
            json,
            422,
            "invalid_field",
            "owner_id",
        ),
        (
            "blank title",
            br#"{"title": "   "}"#.to_vec(),
            json,
            422,
            "invalid_title",
            "empty",
        ),
        (
            "title too long",
            format!(r#"{{"title": "{}"}}"#, "é".repeat(201)).into_bytes(),
            json,
            422,
            "invalid_title",
            "200",
        ),
        (
            "control character",
            br#"{"title": "a\u0007b"}"#.to_vec(),
            json,
            422,
            "invalid_title",
            "control",
        ),
        (
            "not JSON",
            b"title=a".to_vec(),
            "application/x-www-form-urlencoded",
            415,
            "unsupported_media_type",
            "application/json",
        ),
        (
            "over 16 KiB",
            format!(r#"{{"title": "{}"}}"#, "a".repeat(17 * 1024)).into_bytes(),
            json,
            413,
            "body_too_large",
            "16384",
        ),
    ]
}

#[tokio::test]
async fn bad_task_bodies_are_refused_and_create_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("editor", &["Editor"]);
    for (case, body, content_type, status, code, word) in bad_bodies() {
        let request = app
            .request(Method::POST, "/api/tasks")
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body);
        assert_error(&app.read(request).await, status, code, word, case);
    }
    assert!(
        app.all_tasks().await.is_empty(),
        "a refused request created a task"
    );
}

#[tokio::test]
async fn bad_patches_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let token = app.token("editor", &["Editor"]);
    let task = app.seed("editor", "keep me").await;
    let path = format!("/api/tasks/{}", task.id);
    let patches: [(&str, Value, u16, &str, &str); 7] = [
        (
            "completed is a string",
            json!({"completed": "yes"}),
            422,
            "invalid_field",
            "completed",
        ),
        (
            "title is null",
            json!({"title": null}),
            422,
            "invalid_field",
            "title",
        ),
        (
            "completed is null",
            json!({"completed": null, "title": "new"}),
            422,
            "invalid_field",
            "completed",
        ),
        (
            "title is a list",
            json!({"title": ["a"]}),
            422,
            "invalid_field",
            "title",
        ),
        (
            "blank title",
            json!({"title": ""}),
            422,
            "invalid_title",
            "empty",
        ),
        (
            "unknown field",
            json!({"owner_id": "me", "completed": true}),
            422,
            "invalid_field",
            "owner_id",
        ),
        (
            "valid title with a bad field",
            json!({"title": "new", "done": true}),
            422,
            "invalid_field",
            "done",
        ),
    ];
    for (case, body, status, code, word) in patches {
        let reply = app
            .send(Method::PATCH, &path, Some(&token), Some(&body))
            .await;
        assert_error(&reply, status, code, word, case);
    }
    for bad_id in ["abc", "-1", "1.5", "99999999999999999999999"] {
        let reply = app
            .send(
                Method::PATCH,
                &format!("/api/tasks/{bad_id}"),
                Some(&token),
                Some(&json!({"completed": true})),
            )
            .await;
        assert_eq!(
            (reply.status, reply.code()),
            (400, "invalid_id"),
            "{bad_id}: {reply:?}"
        );
    }
    assert_eq!(
        app.all_tasks().await,
        [task],
        "a refused request changed the task"
    );
}

#[tokio::test]
async fn a_full_store_refuses_new_tasks_with_507_and_creates_nothing() {
    let app = TestApp::builder().var("TASKS_MAX", "2").start().await;
    let token = app.token("editor", &["Editor"]);
    let mut replies = Vec::new();
    for title in ["first", "second", "third"] {
        let body = json!({ "title": title });
        replies.push(
            app.send(Method::POST, "/api/tasks", Some(&token), Some(&body))
                .await,
        );
    }
    let statuses: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(statuses, [201, 201, 507], "{replies:?}");
    assert_error(
        &replies[2],
        507,
        "store_full",
        "at most 2 tasks",
        "TASKS_MAX reached",
    );
    let titles: Vec<String> = app.all_tasks().await.into_iter().map(|t| t.title).collect();
    assert_eq!(
        titles,
        ["first", "second"],
        "the refused task was not created"
    );
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_api_shape() {
    let app = TestApp::spawn().await;
    let reply = app.get("/api/nothing-here", None).await;
    assert_eq!((reply.status, reply.code()), (404, "not_found"));
    let reply = app.send(Method::PUT, "/api/tasks", None, None).await;
    assert_eq!((reply.status, reply.code()), (405, "method_not_allowed"));
}

/// Sends `head` and then `body` on a fresh connection, as a simple client does (all of the body,
/// then read), and returns the status line of the answer, or what went wrong.
async fn raw_exchange(app: &TestApp, head: &str, body: &[u8]) -> Result<String, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    // A send buffer of a real network's size: on loopback the kernel would otherwise take the
    // whole body at once, whatever the server does with it.
    socket
        .set_send_buffer_size(64 * 1024)
        .map_err(|e| format!("SO_SNDBUF: {e}"))?;
    let mut stream = socket
        .connect(app.addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // As a browser does, a request that cannot be sent whole is a failed request: a server that
    // closed the connection midway makes the kernel reset it, and the answer is never read.
    async {
        stream.write_all(head.as_bytes()).await?;
        stream.write_all(body).await?;
        stream.flush().await
    }
    .await
    .map_err(|e| format!("send: {e}"))?;
    let mut answer = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .map_err(|_| "no answer within 10 s".to_owned())?;
    if let Err(err) = read
        && answer.is_empty()
    {
        return Err(format!("read: {err}"));
    }
    let text = String::from_utf8_lossy(&answer);
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// A body far over the limit (2 MiB, declared or chunked, with or without a token) is answered
/// 413 every time, and the client can read that answer: the API reads what was sent before it
/// answers, where closing with the body unread would make the kernel reset the connection and
/// drop the answer.
#[tokio::test]
async fn an_oversized_body_always_gets_its_413() {
    let app = TestApp::spawn().await;
    let token = app.token("editor", &["Editor"]);
    let body = vec![b'a'; 2 * 1024 * 1024];
    let chunked = {
        let mut chunked = Vec::new();
        for piece in body.chunks(64 * 1024) {
            chunked.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            chunked.extend_from_slice(piece);
            chunked.extend_from_slice(b"\r\n");
        }
        chunked.extend_from_slice(b"0\r\n\r\n");
        chunked
    };
    for round in 0..40 {
        let auth = if round % 4 < 2 {
            format!("Authorization: Bearer {token}\r\n")
        } else {
            String::new()
        };
        let (framing, sent) = if round % 2 == 0 {
            (format!("Content-Length: {}\r\n", body.len()), &body)
        } else {
            ("Transfer-Encoding: chunked\r\n".to_owned(), &chunked)
        };
        let head = format!(
            "POST /api/tasks HTTP/1.1\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\n{framing}Connection: close\r\n\r\n"
        );
        let status = raw_exchange(&app, &head, sent).await;
        assert_eq!(
            status.as_deref(),
            Ok("HTTP/1.1 413 Payload Too Large"),
            "round {round} ({framing:?}, token: {})",
            !auth.is_empty()
        );
    }
    assert!(app.all_tasks().await.is_empty(), "nothing created");
}

/// A client that asks before sending (`Expect: 100-continue`, as curl does for large bodies) is
/// told 413 at once, and never asked for the body.
#[tokio::test]
async fn a_large_body_announced_with_expect_is_refused_before_it_is_sent() {
    let app = TestApp::spawn().await;
    let token = app.token("editor", &["Editor"]);
    let head = format!(
        "POST /api/tasks HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        100 * 1024 * 1024
    );
    let status = raw_exchange(&app, &head, b"").await;
    assert_eq!(status.as_deref(), Ok("HTTP/1.1 413 Payload Too Large"));
}
