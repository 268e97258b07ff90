//! What Entra's client libraries (MSAL) rely on in the answers: `client_info` and
//! `session_state`, `form_post`, redirect URIs without a path, `auth_time` and `max_age`, and
//! sign-in-only requests.

use std::time::Duration;

use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_answer_carries_client_info_when_asked_and_always_a_session_state() {
    let harness = Harness::start().await;
    let response = harness
        .authorize(
            &Authorize::spa(&harness)
                .set("login_hint", "editor")
                .set("client_info", "1"),
            None,
        )
        .await;
    let params = redirect_params(&response);
    let client_info = param(&params, "client_info").expect("client_info");
    let info: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            client_info,
        )
        .expect("base64url"),
    )
    .expect("json");
    assert_eq!(
        info,
        json!({
            "uid": "7e570000-0000-4000-8000-0000000000a2",
            "utid": harness.provider.tenant_id().to_string(),
        })
    );
    let session_state = param(&params, "session_state").expect("session_state");
    assert!(
        uuid_like(session_state),
        "a GUID naming the session: {session_state}"
    );
    let cookie = session_cookie(&response).expect("a session");
    assert!(
        !cookie.contains(session_state),
        "the session state is not the cookie"
    );

    // A silent sign-in in the same session names the same session; no client_info unasked.
    let silent = harness
        .authorize(
            &Authorize::spa(&harness).set("prompt", "none"),
            Some(&cookie),
        )
        .await;
    let silent = redirect_params(&silent);
    assert_eq!(param(&silent, "session_state"), Some(session_state));
    assert!(param(&silent, "client_info").is_none());
}

fn uuid_like(text: &str) -> bool {
    text.len() == 36 && text.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn form_post_answers_with_a_page_that_posts_the_code_to_the_app() {
    let harness = Harness::start().await;
    let request = Authorize::spa(&harness)
        .set("login_hint", "reader")
        .set("response_mode", "form_post");
    let verifier = request.pkce.verifier.clone();
    let page = harness.authorize(&request, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.headers().get(header::LOCATION).is_none());
    assert!(session_cookie(&page).is_some(), "a session starts");
    let csp = page.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(csp.contains("script-src 'sha256-"), "{csp}");
    assert!(csp.contains(&format!("form-action {SPA_ORIGIN}")), "{csp}");
    let html = page.text().await.expect("html");
    let (action, fields) = form_post_fields(&html);
    assert_eq!(action, REDIRECT_URI);
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(field("state").as_deref(), Some("state-123"));
    assert!(field("session_state").is_some());
    let sign_in = SignIn {
        code: field("code").expect("a code"),
        verifier,
        cookie: None,
    };
    let body: serde_json::Value = harness.redeem(&sign_in).await.json().await.expect("json");
    assert_eq!(
        claims(body["access_token"].as_str().expect("at"))["name"],
        "Test Reader"
    );

    // Errors after the redirect URI is trusted are posted too.
    let refused = harness
        .authorize(
            &Authorize::spa(&harness)
                .set("response_mode", "form_post")
                .set("prompt", "none"),
            None,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::OK);
    let (_, fields) = form_post_fields(&refused.text().await.expect("html"));
    assert!(fields.contains(&("error".to_owned(), "login_required".to_owned())));
}

/// The form of a `form_post` page: its action and hidden fields, unescaped.
fn form_post_fields(html: &str) -> (String, Vec<(String, String)>) {
    let unescape = |text: &str| {
        text.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let action = html
        .split("<form method=\"post\" action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a form");
    let fields = html
        .split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once('"').expect("name");
            let value = rest
                .strip_prefix(" value=\"")
                .and_then(|rest| rest.split('"').next())
                .expect("value");
            (unescape(name), unescape(value))
        })
        .collect();
    (unescape(action), fields)
}

#[tokio::test]
async fn a_redirect_uri_without_its_path_is_the_registered_one() {
    let harness = Harness::start().await;
    let no_slash = SPA_ORIGIN;
    let request = Authorize::spa(&harness)
        .set("redirect_uri", no_slash)
        .set("login_hint", "admin");
    let verifier = request.pkce.verifier.clone();
    let sign_in = SignIn::from_redirect(&harness.authorize(&request, None).await, verifier);
    let form = harness.redemption(&sign_in).set("redirect_uri", no_slash);
    assert_eq!(harness.token(&form).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn id_tokens_carry_auth_time_and_max_age_asks_again_when_the_session_is_older() {
    let harness = Harness::start().await;
    let first = harness.sign_in_as("admin").await;
    let cookie = first.cookie.clone().expect("cookie");
    let body: serde_json::Value = harness.redeem(&first).await.json().await.expect("json");
    let (_, id) = harness
        .verify(body["id_token"].as_str().expect("id token"))
        .await;
    let auth_time = id["auth_time"].as_u64().expect("auth_time");
    assert!(auth_time <= id["iat"].as_u64().expect("iat"));

    harness.provider.advance_clock(Duration::from_secs(120));
    // Young enough: the session's user, and its original auth_time in the new ID token.
    let request = Authorize::spa(&harness)
        .set("prompt", "none")
        .set("max_age", "300");
    let verifier = request.pkce.verifier.clone();
    let silent = SignIn::from_redirect(&harness.authorize(&request, Some(&cookie)).await, verifier);
    let body: serde_json::Value = harness.redeem(&silent).await.json().await.expect("json");
    let id = claims(body["id_token"].as_str().expect("id token"));
    assert_eq!(id["auth_time"].as_u64(), Some(auth_time));
    // ... and refreshed ID tokens keep it too.
    let refreshed: serde_json::Value = harness
        .token(&harness.refresh(body["refresh_token"].as_str().expect("rt")))
        .await
        .json()
        .await
        .expect("json");
    let id = claims(refreshed["id_token"].as_str().expect("id token"));
    assert_eq!(id["auth_time"].as_u64(), Some(auth_time));

    // Too old: silently refused, or asked again (the picker), or signed in anew with a hint.
    let too_old = Authorize::spa(&harness)
        .set("prompt", "none")
        .set("max_age", "60");
    assert_error_redirect(
        &harness.authorize(&too_old, Some(&cookie)).await,
        "login_required",
        50058,
    );
    let asked = harness
        .authorize(
            &Authorize::spa(&harness).set("max_age", "60"),
            Some(&cookie),
        )
        .await;
    assert_eq!(asked.status(), StatusCode::OK, "the sign-in page");
    let request = Authorize::spa(&harness)
        .set("max_age", "60")
        .set("login_hint", "admin");
    let verifier = request.pkce.verifier.clone();
    let again = SignIn::from_redirect(&harness.authorize(&request, Some(&cookie)).await, verifier);
    let body: serde_json::Value = harness.redeem(&again).await.json().await.expect("json");
    let id = claims(body["id_token"].as_str().expect("id token"));
    assert!(id["auth_time"].as_u64().expect("auth_time") >= auth_time + 120);

    // `max_age=0` asks again even a session that has just signed in.
    let fresh = harness.sign_in_as("editor").await;
    let zero = Authorize::spa(&harness)
        .set("prompt", "none")
        .set("max_age", "0");
    assert_error_redirect(
        &harness
            .authorize(&zero, Some(fresh.cookie.as_deref().expect("cookie")))
            .await,
        "login_required",
        50058,
    );

    let bad = Authorize::spa(&harness).set("max_age", "soon");
    let description = assert_error_redirect(
        &harness.authorize(&bad, None).await,
        "invalid_request",
        9002313,
    );
    assert!(description.contains("max_age"), "{description}");
}

#[tokio::test]
async fn a_sign_in_only_request_gets_an_id_token_and_later_a_token_for_the_api() {
    let harness = Harness::start().await;
    let api = harness.provider.api_client_id();
    let sign_in = harness
        .sign_in(
            Authorize::spa(&harness)
                .set("scope", "openid profile offline_access")
                .set("login_hint", "editor"),
        )
        .await;
    let response = harness.redeem(&sign_in).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        body["scope"],
        "https://graph.microsoft.com/User.Read openid profile offline_access"
    );
    let (_, id) = harness
        .verify(body["id_token"].as_str().expect("an ID token"))
        .await;
    assert_eq!(id["name"], "Test Editor");
    let graph = claims(body["access_token"].as_str().expect("an access token"));
    assert_eq!(graph["aud"], "00000003-0000-0000-c000-000000000000");
    assert_eq!(graph["scp"], "User.Read");
    assert!(graph.get("roles").is_none(), "no app roles for Graph");

    // The same refresh token, asked for the API: no new sign-in needed.
    let form = harness
        .refresh(body["refresh_token"].as_str().expect("rt"))
        .set(
            "scope",
            &format!("api://{api}/access_as_user openid offline_access"),
        );
    let renewed: serde_json::Value = harness.token(&form).await.json().await.expect("json");
    let access = claims(renewed["access_token"].as_str().expect("at"));
    assert_eq!(access["aud"], format!("api://{api}"));
    assert_eq!(access["roles"], json!(["Editor"]));

    let nothing = Authorize::spa(&harness)
        .set("scope", "offline_access")
        .set("login_hint", "editor");
    assert_error_redirect(
        &harness.authorize(&nothing, None).await,
        "invalid_scope",
        70011,
    );
}
