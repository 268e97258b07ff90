//! The `scope` of a refresh: the sign-in's grant or less, never more. The SPA signs in with
//! `openid profile offline_access api://{api}/access_as_user` (see `Authorize::spa`).

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::*;

/// The token response of a first sign-in as `reader`, and its refresh token.
async fn signed_in(harness: &Harness) -> (Value, String) {
    let first = harness.tokens_for("reader").await;
    let refresh_token = first["refresh_token"].as_str().expect("rt").to_owned();
    (first, refresh_token)
}

/// Refreshes with `scope` (none if `None`); the response must be a success.
async fn refreshed(harness: &Harness, refresh_token: &str, scope: Option<&str>) -> Value {
    let mut form = harness.refresh(refresh_token);
    if let Some(scope) = scope {
        form = form.set("scope", scope);
    }
    let response = harness.token(&form).await;
    assert_eq!(response.status(), StatusCode::OK, "refresh with {scope:?}");
    response.json().await.expect("json")
}

#[tokio::test]
async fn a_refresh_asking_for_a_scope_the_sign_in_did_not_grant_is_refused_and_changes_nothing() {
    let harness = Harness::start().await;
    let api = harness.provider.api_client_id();
    let (first, refresh_token) = signed_in(&harness).await;

    let wider = harness.refresh(&refresh_token).set(
        "scope",
        &format!("openid profile email offline_access api://{api}/access_as_user"),
    );
    let refused = harness.token(&wider).await;
    let body = assert_oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_scope", 70011).await;
    let description = body["error_description"].as_str().expect("description");
    assert!(
        description.contains("'email' was not granted"),
        "{description}"
    );
    assert!(body.get("access_token").is_none(), "{body}");

    // The refresh token was not used up by the refused request: it still renews, and what it
    // renews is still exactly the sign-in's grant (no email claim slipped in).
    let renewed = refreshed(&harness, &refresh_token, None).await;
    assert_eq!(renewed["scope"], first["scope"]);
    let id_token = claims(renewed["id_token"].as_str().expect("id token"));
    assert!(id_token.get("email").is_none(), "{id_token}");
}

#[tokio::test]
async fn a_refresh_may_ask_for_fewer_scopes_without_shrinking_later_refreshes() {
    let harness = Harness::start().await;
    let api = harness.provider.api_client_id();
    let (first, refresh_token) = signed_in(&harness).await;

    let narrowed = refreshed(
        &harness,
        &refresh_token,
        Some(&format!("api://{api}/.default")),
    )
    .await;
    assert!(narrowed["id_token"].is_null(), "openid was not asked for");
    let (_, access) = harness
        .verify(narrowed["access_token"].as_str().expect("at"))
        .await;
    assert_eq!(access["scp"], "access_as_user");
    assert_eq!(
        narrowed["scope"],
        format!("api://{api}/access_as_user offline_access"),
        "the rotated refresh token comes back even without offline_access in the request"
    );
    let rotated = narrowed["refresh_token"].as_str().expect("a rotated rt");
    assert_ne!(rotated, refresh_token);

    // The rotated token carries the whole grant: the next refresh may ask for all of it again.
    let whole = refreshed(
        &harness,
        rotated,
        Some(&format!(
            "openid profile offline_access api://{api}/access_as_user"
        )),
    )
    .await;
    assert_eq!(whole["scope"], first["scope"]);
    assert_eq!(
        claims(whole["id_token"].as_str().expect("id token"))["name"],
        "Test Reader"
    );
}

#[tokio::test]
async fn a_refresh_without_scope_gets_the_sign_ins_grant() {
    let harness = Harness::start().await;
    let api = harness.provider.api_client_id();
    let (first, refresh_token) = signed_in(&harness).await;
    assert_eq!(
        first["scope"],
        format!("api://{api}/access_as_user openid profile offline_access")
    );

    let renewed = refreshed(&harness, &refresh_token, None).await;
    assert_eq!(renewed["scope"], first["scope"]);
    assert!(renewed["id_token"].is_string());
    let rotated = renewed["refresh_token"].as_str().expect("a rotated rt");
    let again = refreshed(&harness, rotated, None).await;
    assert_eq!(again["scope"], first["scope"]);
}
