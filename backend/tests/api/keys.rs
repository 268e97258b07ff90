//! Key rotation and outages of the identity provider, observed at its JWKS endpoint.

use std::time::Duration;

use serde_json::json;
use testkit::{TestKey, sign};

use crate::helpers::{TestApp, assert_invalid_token};

#[tokio::test]
async fn a_key_published_later_is_accepted_after_refresh() {
    let app = TestApp::spawn().await;
    let rotated = TestKey::rotated();
    let token = sign(&rotated, &app.keys.claims("alice", &["Reader"]));
    let fetches = app.keys.jwks_fetches();
    app.keys.publish(&[&app.primary, &rotated]);
    assert_eq!(app.get("/api/me", Some(&token)).await.status, 200);
    assert_eq!(
        app.keys.jwks_fetches(),
        fetches + 1,
        "one on-demand refresh"
    );
    assert_eq!(
        app.get("/api/me", Some(&app.token("bob", &["Reader"])))
            .await
            .status,
        200,
        "old key still valid"
    );
}

#[tokio::test]
async fn unknown_kid_refreshes_are_limited_by_the_cooldown() {
    let app = TestApp::builder()
        .var("JWKS_REFRESH_COOLDOWN_SECS", "3")
        .start()
        .await;
    let rotated = TestKey::rotated();
    let token = sign(&rotated, &app.keys.claims("alice", &["Reader"]));
    assert_invalid_token(&app.get("/api/me", Some(&token)).await, "not published yet");
    let fetches = app.keys.jwks_fetches();
    app.keys.publish(&[&app.primary, &rotated]);
    assert_invalid_token(
        &app.get("/api/me", Some(&token)).await,
        "within the cooldown",
    );
    assert_eq!(
        app.keys.jwks_fetches(),
        fetches,
        "no fetch within the cooldown"
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    assert_eq!(
        app.get("/api/me", Some(&token)).await.status,
        200,
        "after the cooldown"
    );
}

#[tokio::test]
async fn a_hundred_concurrent_unknown_kids_cause_at_most_one_fetch() {
    let app = TestApp::spawn().await;
    app.keys.set_delay(Duration::from_millis(200));
    let baseline = app.keys.jwks_fetches();
    let claims = app.keys.claims("mallory", &["Admin"]);
    let app = std::sync::Arc::new(app);
    for wave in 0..2 {
        let requests: Vec<_> = (0..100)
            .map(|i| {
                let app = app.clone();
                let token = sign(
                    &TestKey::primary().with_kid(&format!("bogus-{wave}-{i}")),
                    &claims,
                );
                tokio::spawn(async move { app.get("/api/tasks", Some(&token)).await })
            })
            .collect();
        for request in requests {
            assert_invalid_token(&request.await.expect("request task"), "unknown kid");
        }
    }
    assert_eq!(
        app.keys.jwks_fetches() - baseline,
        1,
        "exactly one refresh for 200 unknown kids"
    );
}

#[tokio::test]
async fn identity_provider_down_keeps_the_cached_keys() {
    let app = TestApp::spawn().await;
    app.keys.set_available(false);
    let requests = app.keys.requests();
    let unknown = sign(&TestKey::rotated(), &app.keys.claims("alice", &["Reader"]));
    assert_invalid_token(
        &app.get("/api/me", Some(&unknown)).await,
        "unknown kid while down",
    );
    assert!(app.keys.requests() > requests, "the refresh was tried");
    assert_eq!(
        app.get("/api/me", Some(&app.token("alice", &["Reader"])))
            .await
            .status,
        200
    );
    assert_eq!(
        app.get("/ready", None).await.status,
        200,
        "still ready on cached keys"
    );
}

#[tokio::test]
async fn a_broken_key_set_keeps_the_last_good_keys() {
    let app = TestApp::builder()
        .var("JWKS_REFRESH_COOLDOWN_SECS", "0")
        .start()
        .await;
    for broken in [
        json!({"keys": "none"}),
        json!({"keys": []}),
        json!({"keys": [{"kty": "RSA", "kid": "x", "n": "AQAB", "e": "AQAB"}]}),
    ] {
        app.keys.publish_raw(broken.clone());
        let unknown = sign(&TestKey::rotated(), &app.keys.claims("alice", &["Reader"]));
        assert_invalid_token(
            &app.get("/api/me", Some(&unknown)).await,
            &broken.to_string(),
        );
        assert_eq!(
            app.get("/api/me", Some(&app.token("alice", &["Reader"])))
                .await
                .status,
            200,
            "{broken}"
        );
    }
}

#[tokio::test]
async fn a_withdrawn_key_stops_working_even_for_cached_tokens() {
    let app = TestApp::spawn().await;
    let old = app.token("alice", &["Reader"]);
    assert_eq!(
        app.get("/api/me", Some(&old)).await.status,
        200,
        "verified and cached"
    );
    let rotated = TestKey::rotated();
    app.keys.publish(&[&rotated]);
    let new = sign(&rotated, &app.keys.claims("alice", &["Reader"]));
    assert_eq!(
        app.get("/api/me", Some(&new)).await.status,
        200,
        "new kid triggers the refresh"
    );
    assert_invalid_token(
        &app.get("/api/me", Some(&old)).await,
        "token of the withdrawn key",
    );
}

#[tokio::test]
async fn not_ready_and_closed_until_keys_load_then_ready() {
    let app = TestApp::builder().keys_down().start().await;
    let ready = app.get("/ready", None).await;
    assert_eq!((ready.status, ready.code()), (503, "not_ready"));
    assert_eq!(
        app.get("/health", None).await.status,
        200,
        "alive while not ready"
    );
    let token = app.token("alice", &["Reader"]);
    let refused = app.get("/api/tasks", Some(&token)).await;
    assert_eq!(
        (refused.status, refused.code()),
        (503, "keys_unavailable"),
        "fail closed: {refused:?}"
    );
    assert!(refused.header("retry-after").is_some());

    app.keys.set_available(true);
    app.wait_until_ready().await;
    assert_eq!(app.get("/api/tasks", Some(&token)).await.status, 200);
}
