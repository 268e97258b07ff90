//! The public (desktop, mobile, CLI) client: its own id and loopback redirect URI, any port, no
//! `Origin`, the same users and tokens.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

/// A desktop app's loopback listener, on whatever port it got.
const LOOPBACK: &str = "http://localhost:53117/";

/// The public client's request: the SPA's, with its id and a loopback redirect URI.
fn desktop(harness: &Harness) -> Authorize {
    Authorize::spa(harness)
        .set(
            "client_id",
            &harness.provider.public_client_id().to_string(),
        )
        .set("redirect_uri", LOOPBACK)
        .set("login_hint", "admin")
}

/// Signs in with `request` and returns the code, from the redirect to the loopback listener.
async fn code(harness: &Harness, request: &Authorize) -> String {
    let response = harness.authorize(request, None).await;
    assert_eq!(response.status(), StatusCode::FOUND);
    let url = location(&response);
    assert!(url.as_str().starts_with(LOOPBACK), "{url}");
    url.query_pairs()
        .find(|(name, _)| name == "code")
        .map(|(_, code)| code.into_owned())
        .expect("a code")
}

fn redemption(harness: &Harness, code: &str, verifier: &str) -> Params {
    Params::new(&[
        ("grant_type", "authorization_code"),
        (
            "client_id",
            &harness.provider.public_client_id().to_string(),
        ),
        ("code", code),
        ("redirect_uri", LOOPBACK),
        ("code_verifier", verifier),
    ])
}

#[tokio::test]
async fn a_desktop_app_signs_in_on_any_loopback_port_without_an_origin() {
    let harness = Harness::start().await;
    let public = harness.provider.public_client_id().to_string();
    let request = desktop(&harness);
    let code = code(&harness, &request).await;
    let response = harness
        .token_from(&redemption(&harness, &code, &request.pkce.verifier), None)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["refresh_token_expires_in"], 90 * 24 * 3600);
    let (_, access) = harness
        .verify(body["access_token"].as_str().expect("at"))
        .await;
    assert_eq!(access["appid"], public, "the client that asked");
    assert_eq!(access["roles"], json!(["Admin"]));
    let (_, id) = harness
        .verify(body["id_token"].as_str().expect("id token"))
        .await;
    assert_eq!(id["aud"], public);

    // Its refresh tokens slide: each one lives 90 days from its own issue.
    harness
        .provider
        .advance_clock(Duration::from_secs(30 * 24 * 3600));
    let refreshed = harness
        .token_from(
            &harness
                .refresh(body["refresh_token"].as_str().expect("rt"))
                .set("client_id", &public),
            None,
        )
        .await;
    assert_eq!(refreshed.status(), StatusCode::OK);
    let refreshed: serde_json::Value = refreshed.json().await.expect("json");
    assert_eq!(refreshed["refresh_token_expires_in"], 90 * 24 * 3600);
}

#[tokio::test]
async fn codes_and_refresh_tokens_are_redeemed_by_the_client_they_were_issued_to() {
    let harness = Harness::start().await;
    let public = harness.provider.public_client_id().to_string();
    let as_desktop = |form: Params| form.set("client_id", &public);

    // The desktop app's code, presented by the SPA.
    let request = desktop(&harness);
    let desktop_code = code(&harness, &request).await;
    let form = redemption(&harness, &desktop_code, &request.pkce.verifier);
    let spa_id = harness.provider.spa_client_id().to_string();
    let refused = harness.token(&form.clone().set("client_id", &spa_id)).await;
    assert_oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_grant", 70000).await;

    // Refresh tokens, either way; the refused request leaves them usable by their own client.
    let desktop_refresh = {
        let request = desktop(&harness);
        let code = code(&harness, &request).await;
        let response = harness
            .token_from(&redemption(&harness, &code, &request.pkce.verifier), None)
            .await;
        let body: serde_json::Value = response.json().await.expect("json");
        body["refresh_token"].as_str().expect("rt").to_owned()
    };
    let refused = harness.token(&harness.refresh(&desktop_refresh)).await;
    assert_oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_grant", 70000).await;
    let own = harness
        .token_from(&as_desktop(harness.refresh(&desktop_refresh)), None)
        .await;
    assert_eq!(own.status(), StatusCode::OK);

    let spa_tokens = harness.tokens_for("editor").await;
    let spa_refresh = spa_tokens["refresh_token"].as_str().expect("rt");
    let refused = harness
        .token_from(&as_desktop(harness.refresh(spa_refresh)), None)
        .await;
    assert_oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_grant", 70000).await;
    assert_eq!(
        harness.token(&harness.refresh(spa_refresh)).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_public_client_redeems_without_origin_and_only_its_own_grants() {
    let harness = Harness::start().await;
    let request = desktop(&harness);
    let code = code(&harness, &request).await;
    let form = redemption(&harness, &code, &request.pkce.verifier);
    let from_a_page = harness.token_from(&form, Some(SPA_ORIGIN)).await;
    let body = assert_oauth_error(
        from_a_page,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        9002326,
    )
    .await;
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("'Single-Page Application'")),
        "{body}"
    );
    assert_eq!(
        harness.token_from(&form, None).await.status(),
        StatusCode::OK,
        "the refused request did not spend the code"
    );

    // A code issued to the SPA is not the desktop app's, nor the other way round.
    let spa = harness.sign_in_as("editor").await;
    let stolen = redemption(&harness, &spa.code, &spa.verifier).set("redirect_uri", REDIRECT_URI);
    let refused = harness.token_from(&stolen, None).await;
    assert_oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_grant", 70000).await;
}

#[tokio::test]
async fn loopback_ports_are_ignored_but_not_hosts_paths_or_schemes() {
    let harness = Harness::start().await;
    for port in ["1", "8081", "65535"] {
        let request = desktop(&harness).set("redirect_uri", &format!("http://localhost:{port}"));
        let response = harness.authorize(&request, None).await;
        assert_eq!(response.status(), StatusCode::FOUND, "port {port}");
        assert_eq!(
            location(&response).port(),
            Some(port.parse().expect("port")),
            "the answer goes to the port asked for"
        );
    }
    for uri in [
        "http://127.0.0.1:53117/",
        "http://localhost:53117/callback",
        "https://localhost:53117/",
        "http://localhost.evil.example:53117/",
    ] {
        let request = desktop(&harness).set("redirect_uri", uri);
        assert_error_page(harness.authorize(&request, None).await, 50011).await;
    }
}
