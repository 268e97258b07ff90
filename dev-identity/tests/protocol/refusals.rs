//! Requests the provider must refuse, each with Entra's error and nothing issued.

use std::time::Duration;

use dev_identity::Provider;
use reqwest::{Method, StatusCode, header};

use crate::helpers::*;

#[tokio::test]
async fn a_code_is_redeemed_once() {
    let harness = Harness::start().await;
    let sign_in = harness.sign_in_as("editor").await;
    assert_eq!(harness.redeem(&sign_in).await.status(), StatusCode::OK);
    let again = harness.redeem(&sign_in).await;
    assert_oauth_error(again, StatusCode::BAD_REQUEST, "invalid_grant", 54005).await;
}

#[tokio::test]
async fn a_wrong_verifier_is_refused_and_burns_the_code() {
    let harness = Harness::start().await;
    let mut sign_in = harness.sign_in_as("editor").await;
    let right = std::mem::replace(&mut sign_in.verifier, Pkce::new().verifier);
    let wrong = harness.redeem(&sign_in).await;
    assert_oauth_error(wrong, StatusCode::BAD_REQUEST, "invalid_grant", 501481).await;
    sign_in.verifier = right;
    let too_late = harness.redeem(&sign_in).await;
    assert_oauth_error(too_late, StatusCode::BAD_REQUEST, "invalid_grant", 54005).await;
}

#[tokio::test]
async fn an_expired_code_is_refused() {
    let harness = Harness::start().await;
    let sign_in = harness.sign_in_as("editor").await;
    harness.provider.advance_clock(Duration::from_secs(61));
    let late = harness.redeem(&sign_in).await;
    assert_oauth_error(late, StatusCode::BAD_REQUEST, "invalid_grant", 70008).await;
}

#[tokio::test]
async fn a_made_up_code_is_refused() {
    let harness = Harness::start().await;
    let made_up = SignIn {
        code: "not-a-code".into(),
        verifier: Pkce::new().verifier,
        cookie: None,
    };
    let response = harness.redeem(&made_up).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant", 70000).await;
}

#[tokio::test]
async fn an_unregistered_redirect_uri_gets_an_error_page_never_a_redirect() {
    let harness = Harness::start().await;
    for uri in [
        "https://evil.example/",
        "http://localhost:8080/other",
        "http://localhost:8080/other/",
    ] {
        let request = Authorize::spa(&harness)
            .set("redirect_uri", uri)
            .set("login_hint", "admin");
        let page = assert_error_page(harness.authorize(&request, None).await, 50011).await;
        assert!(page.contains("does not match the redirect URIs"), "{uri}");
    }
    let missing = Authorize::spa(&harness).remove("redirect_uri");
    assert_error_page(harness.authorize(&missing, None).await, 900144).await;
}

#[tokio::test]
async fn the_code_must_be_redeemed_with_the_redirect_uri_it_was_issued_for() {
    let other = "http://localhost:8080/other/";
    let harness = Harness::with(Provider::builder().redirect_uris([
        REDIRECT_URI.parse().expect("uri"),
        other.parse().expect("uri"),
    ]))
    .await;
    let sign_in = harness.sign_in_as("editor").await;
    let form = harness.redemption(&sign_in).set("redirect_uri", other);
    let response = harness.token(&form).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant", 500112).await;
}

#[tokio::test]
async fn an_unknown_client_is_refused_at_both_endpoints() {
    let harness = Harness::start().await;
    let stranger = harness.provider.api_client_id().to_string();
    let request = Authorize::spa(&harness)
        .set("client_id", &stranger)
        .set("login_hint", "admin");
    assert_error_page(harness.authorize(&request, None).await, 700016).await;

    let sign_in = harness.sign_in_as("admin").await;
    let form = harness.redemption(&sign_in).set("client_id", &stranger);
    let response = harness.token(&form).await;
    assert_oauth_error(
        response,
        StatusCode::BAD_REQUEST,
        "unauthorized_client",
        700016,
    )
    .await;
    assert_eq!(
        harness.redeem(&sign_in).await.status(),
        StatusCode::OK,
        "the code was not spent"
    );
}

#[tokio::test]
async fn pkce_is_required_and_only_s256_is_accepted() {
    let harness = Harness::start().await;
    let hinted = |harness: &Harness| Authorize::spa(harness).set("login_hint", "admin");

    let missing = harness
        .authorize(&hinted(&harness).remove("code_challenge"), None)
        .await;
    assert_error_redirect(&missing, "invalid_request", 9002325);

    let plain = hinted(&harness).set("code_challenge_method", "plain");
    let description = assert_error_redirect(
        &harness.authorize(&plain, None).await,
        "invalid_request",
        9002325,
    );
    assert!(description.contains("'plain'"), "{description}");

    let defaulted = hinted(&harness).remove("code_challenge_method");
    assert_error_redirect(
        &harness.authorize(&defaulted, None).await,
        "invalid_request",
        9002325,
    );

    let malformed = hinted(&harness).set("code_challenge", "too-short");
    assert_error_redirect(
        &harness.authorize(&malformed, None).await,
        "invalid_request",
        501491,
    );

    let sign_in = harness.sign_in_as("admin").await;
    let form = harness.redemption(&sign_in).remove("code_verifier");
    let no_verifier = harness.token(&form).await;
    assert_oauth_error(
        no_verifier,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
    )
    .await;
}

#[tokio::test]
async fn only_the_code_flow_is_offered() {
    let harness = Harness::start().await;
    let implicit = Authorize::spa(&harness)
        .set("response_type", "id_token token")
        .set("login_hint", "admin");
    assert_error_redirect(
        &harness.authorize(&implicit, None).await,
        "unsupported_response_type",
        700054,
    );

    let web_message = Authorize::spa(&harness)
        .set("response_mode", "web_message")
        .set("login_hint", "admin");
    assert_error_redirect(
        &harness.authorize(&web_message, None).await,
        "invalid_request",
        9002313,
    );

    let form = harness.refresh("unused").set("grant_type", "password");
    let password = harness.token(&form).await;
    assert_oauth_error(
        password,
        StatusCode::BAD_REQUEST,
        "unsupported_grant_type",
        70003,
    )
    .await;
}

#[tokio::test]
async fn scopes_for_other_resources_are_refused_by_name() {
    let harness = Harness::start().await;
    let graph = Authorize::spa(&harness)
        .set("scope", "openid https://graph.microsoft.com/User.Read")
        .set("login_hint", "admin");
    let description = assert_error_redirect(
        &harness.authorize(&graph, None).await,
        "invalid_resource",
        500011,
    );
    assert!(
        description.contains("https://graph.microsoft.com"),
        "{description}"
    );

    let api = harness.provider.api_client_id();
    let unknown_permission = Authorize::spa(&harness)
        .set("scope", &format!("openid api://{api}/Tasks.ReadWrite"))
        .set("login_hint", "admin");
    assert_error_redirect(
        &harness.authorize(&unknown_permission, None).await,
        "invalid_scope",
        70011,
    );
}

#[tokio::test]
async fn the_token_endpoint_answers_registered_origins_only() {
    let harness = Harness::start().await;
    let sign_in = harness.sign_in_as("editor").await;
    let form = harness.redemption(&sign_in);

    let same_origin = harness.token_from(&form, None).await;
    assert_oauth_error(
        same_origin,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        9002327,
    )
    .await;
    let foreign = harness
        .token_from(&form, Some("https://evil.example"))
        .await;
    assert!(
        foreign
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    assert_oauth_error(foreign, StatusCode::BAD_REQUEST, "invalid_request", 9002326).await;

    let allowed = harness.token_from(&form, Some(SPA_ORIGIN)).await;
    assert_eq!(
        allowed.status(),
        StatusCode::OK,
        "refusals did not spend the code"
    );
    assert_eq!(
        allowed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        SPA_ORIGIN
    );

    let preflight = |origin: &'static str| {
        harness
            .http
            .request(Method::OPTIONS, harness.url("/oauth2/v2.0/token"))
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .send()
    };
    let ok = preflight(SPA_ORIGIN).await.expect("answers");
    assert_eq!(
        ok.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        SPA_ORIGIN
    );
    let refused = preflight("https://evil.example").await.expect("answers");
    assert!(
        refused
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
}

#[tokio::test]
async fn a_public_client_may_not_send_a_secret() {
    let harness = Harness::start().await;
    let sign_in = harness.sign_in_as("editor").await;
    let form = harness.redemption(&sign_in).set("client_secret", "s3cret");
    let response = harness.token(&form).await;
    assert_oauth_error(response, StatusCode::UNAUTHORIZED, "invalid_client", 700025).await;
}

#[tokio::test]
async fn oversized_repeated_and_malformed_input_is_refused() {
    let harness = Harness::start().await;
    let long_state = "s".repeat(3000);
    let oversized = Authorize::spa(&harness).set("state", &long_state);
    assert_error_page(harness.authorize(&oversized, None).await, 90015).await;

    let mut repeated = Authorize::spa(&harness);
    repeated
        .params
        .0
        .push(("redirect_uri".into(), "https://evil.example/".into()));
    let page = assert_error_page(harness.authorize(&repeated, None).await, 9002313).await;
    assert!(
        page.contains("&#39;redirect_uri&#39; is repeated"),
        "{page}"
    );

    let json_body = harness
        .http
        .post(harness.url("/oauth2/v2.0/token"))
        .header(header::ORIGIN, SPA_ORIGIN)
        .json(&serde_json::json!({"grant_type": "authorization_code"}))
        .send()
        .await
        .expect("answers");
    assert_oauth_error(
        json_body,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        9002313,
    )
    .await;

    let huge = harness
        .http
        .post(harness.url("/oauth2/v2.0/token"))
        .header(header::ORIGIN, SPA_ORIGIN)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("grant_type={}", "x".repeat(64 * 1024)))
        .send()
        .await
        .expect("answers");
    assert_oauth_error(huge, StatusCode::BAD_REQUEST, "invalid_request", 9002313).await;

    let nowhere = harness
        .http
        .get(harness.url("/oauth2/authorize"))
        .send()
        .await
        .expect("answers");
    assert_oauth_error(nowhere, StatusCode::NOT_FOUND, "invalid_request", 90056).await;
}
