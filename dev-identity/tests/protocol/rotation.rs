//! The dev-only key rotation hook: what an API's key cache must cope with.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn rotation_signs_with_a_new_published_key_and_keeps_the_old_one_for_a_while() {
    let harness = Harness::start().await;
    let before = harness.tokens_for("admin").await;
    let old_token = before["access_token"].as_str().expect("at").to_owned();
    let (old_header, _) = harness.verify(&old_token).await;
    let old_kid = old_header["kid"].as_str().expect("kid").to_owned();

    let rotated = harness
        .http
        .post(harness.url("/dev/rotate-signing-key"))
        .send()
        .await
        .expect("answers");
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.expect("json");
    let new_kid = rotated["kid"].as_str().expect("kid").to_owned();
    assert_ne!(new_kid, old_kid);
    assert_eq!(rotated["published"], serde_json::json!([new_kid, old_kid]));

    let after = harness.tokens_for("admin").await;
    let (new_header, _) = harness
        .verify(after["access_token"].as_str().expect("at"))
        .await;
    assert_eq!(
        new_header["kid"],
        new_kid.as_str(),
        "new tokens use the new key"
    );
    harness.verify(&old_token).await;

    // Two more rotations (through the library API) retire the first key for good.
    harness.provider.rotate_signing_key().await.expect("rotate");
    harness.provider.rotate_signing_key().await.expect("rotate");
    let keys = harness.published_keys().await;
    let kids: Vec<&str> = keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|key| key["kid"].as_str())
        .collect();
    assert_eq!(kids.len(), 3);
    assert!(
        !kids.contains(&old_kid.as_str()),
        "the oldest key is withdrawn"
    );
    assert!(kids.contains(&new_kid.as_str()));
}

/// Any web page can make the browser POST to loopback: the hook refuses pages of other sites, so
/// one cannot rotate the keys (and break the tokens already issued) behind a developer's back.
#[tokio::test]
async fn rotation_is_refused_to_pages_of_other_sites() {
    let harness = Harness::start().await;
    let before = harness.published_keys().await;
    let refused = harness
        .http
        .post(harness.url("/dev/rotate-signing-key"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.expect("json");
    assert_eq!(body["error"], "invalid_request", "{body}");
    assert_eq!(harness.published_keys().await, before, "no rotation");

    let app = harness
        .http
        .post(harness.url("/dev/rotate-signing-key"))
        .header("origin", SPA_ORIGIN)
        .send()
        .await
        .expect("answers");
    assert_eq!(app.status(), StatusCode::OK, "the registered app's origin");
}
