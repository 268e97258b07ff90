//! The flows that succeed: discovery, code + PKCE, the sign-in page, silent sign-in, fragment
//! responses, refresh, sign-out.

use std::time::Duration;

use dev_identity::{Provider, TokenVersion, Users};
use reqwest::{StatusCode, header};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn discovery_documents_give_entras_issuers_and_endpoints() {
    let harness = Harness::start().await;
    let authority = harness.provider.authority().to_owned();
    let v2 = harness
        .get_json(&harness.url("/v2.0/.well-known/openid-configuration"))
        .await;
    assert_eq!(v2["issuer"], format!("{authority}/v2.0"));
    assert_eq!(
        v2["authorization_endpoint"],
        format!("{authority}/oauth2/v2.0/authorize")
    );
    assert_eq!(
        v2["token_endpoint"],
        format!("{authority}/oauth2/v2.0/token")
    );
    assert_eq!(
        v2["end_session_endpoint"],
        format!("{authority}/oauth2/v2.0/logout")
    );
    assert_eq!(v2["jwks_uri"], format!("{authority}/discovery/v2.0/keys"));
    assert_eq!(v2["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        v2["response_modes_supported"],
        json!(["query", "fragment", "form_post"])
    );
    assert_eq!(v2["response_types_supported"], json!(["code"]));
    assert_eq!(
        v2["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );

    let v1 = harness
        .get_json(&harness.url("/.well-known/openid-configuration"))
        .await;
    assert_eq!(v1["issuer"], format!("{authority}/"));
    assert_eq!(harness.provider.v1_issuer(), format!("{authority}/"));
    let v1_keys = harness
        .get_json(v1["jwks_uri"].as_str().expect("jwks_uri"))
        .await;
    assert_eq!(
        v1_keys,
        harness.published_keys().await,
        "one key set, two paths"
    );

    let wrong_tenant = harness
        .http
        .get(format!(
            "{}/00000000-0000-0000-0000-000000000000/v2.0/.well-known/openid-configuration",
            harness.provider.base_url()
        ))
        .send()
        .await
        .expect("answers");
    assert_oauth_error(
        wrong_tenant,
        StatusCode::NOT_FOUND,
        "invalid_request",
        90002,
    )
    .await;
}

#[tokio::test]
async fn code_flow_with_pkce_issues_verifiable_v1_access_and_id_tokens() {
    let harness = Harness::start().await;
    let api = harness.provider.api_client_id().to_string();
    let spa = harness.provider.spa_client_id().to_string();
    let tenant = harness.provider.tenant_id().to_string();
    let body = harness.tokens_for("editor").await;

    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["ext_expires_in"], 3600);
    assert_eq!(
        body["scope"],
        format!("api://{api}/access_as_user openid profile offline_access")
    );
    assert!(
        body["refresh_token"]
            .as_str()
            .is_some_and(|t| t.len() >= 43)
    );

    let (header, access) = harness
        .verify(body["access_token"].as_str().expect("at"))
        .await;
    assert_eq!(
        header.as_object().expect("header").len(),
        3,
        "typ, alg, kid: {header}"
    );
    assert_eq!(access["aud"], format!("api://{api}"));
    assert_eq!(access["iss"], harness.provider.v1_issuer());
    assert_eq!(access["ver"], "1.0");
    assert_eq!(access["tid"], tenant);
    assert_eq!(access["appid"], spa);
    assert_eq!(access["upn"], "editor@dev.localhost");
    assert_eq!(access["unique_name"], "editor@dev.localhost");
    assert_eq!(access["name"], "Test Editor");
    assert_eq!(access["oid"], "7e570000-0000-4000-8000-0000000000a2");
    assert_eq!(access["roles"], json!(["Editor"]));
    assert_eq!(access["scp"], "access_as_user");
    assert!(access.get("preferred_username").is_none() && access.get("azp").is_none());
    let iat = access["iat"].as_u64().expect("iat");
    assert_eq!(access["nbf"].as_u64(), Some(iat));
    assert_eq!(access["exp"].as_u64(), Some(iat + 3600));

    let (_, id) = harness
        .verify(body["id_token"].as_str().expect("id token"))
        .await;
    assert_eq!(id["aud"], spa);
    assert_eq!(id["iss"], harness.provider.v2_issuer());
    assert_eq!(id["ver"], "2.0");
    assert_eq!(id["nonce"], "nonce-456");
    assert_eq!(id["name"], "Test Editor");
    assert_eq!(id["preferred_username"], "editor@dev.localhost");
    assert_eq!(id["oid"], access["oid"]);
    assert_eq!(id["tid"], tenant);
    assert_ne!(id["sub"], access["sub"], "sub is pairwise, per application");
    assert!(id.get("roles").is_none());
}

#[tokio::test]
async fn v2_access_tokens_have_v2_claims_the_set_lifetime_and_no_empty_roles() {
    let harness = Harness::with(
        Provider::builder()
            .access_token_version(TokenVersion::V2)
            .access_token_lifetime(Duration::from_secs(120)),
    )
    .await;
    let api = harness.provider.api_client_id().to_string();
    let body = harness.tokens_for("guest").await;
    assert_eq!(body["expires_in"], 120);
    let (_, access) = harness
        .verify(body["access_token"].as_str().expect("at"))
        .await;
    assert_eq!(access["aud"], api);
    assert_eq!(access["iss"], harness.provider.v2_issuer());
    assert_eq!(access["ver"], "2.0");
    assert_eq!(access["azp"], harness.provider.spa_client_id().to_string());
    assert_eq!(access["preferred_username"], "guest@dev.localhost");
    assert_eq!(access["scp"], "access_as_user");
    assert!(access.get("upn").is_none() && access.get("appid").is_none());
    assert!(
        access.get("roles").is_none(),
        "no roles claim for a user without roles: {access}"
    );
    let iat = access["iat"].as_u64().expect("iat");
    assert_eq!(access["exp"].as_u64(), Some(iat + 120));
}

#[tokio::test]
async fn the_sign_in_page_lists_the_users_and_signs_in_the_one_picked() {
    let harness = Harness::start().await;
    let request = Authorize::spa(&harness);
    let verifier = request.pkce.verifier.clone();
    let page = harness.authorize(&request, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "DENY");
    let html = page.text().await.expect("html");
    assert!(html.contains("Development only"));
    for (name, display, username) in [
        ("admin", "Test Admin", "admin@dev.localhost"),
        ("editor", "Test Editor", "editor@dev.localhost"),
        ("reader", "Test Reader", "reader@dev.localhost"),
        ("guest", "Test Guest", "guest@dev.localhost"),
    ] {
        assert!(
            html.contains(&format!(
                "<button type=\"submit\" name=\"user\" value=\"{name}\">"
            )),
            "a button for {name}"
        );
        assert!(
            html.contains(display) && html.contains(username),
            "{name} shown"
        );
    }
    let request_id = html
        .split("name=\"request\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the pending request's id");
    let action = html
        .split("<form method=\"post\" action=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("form action");

    let pick = || {
        harness
            .http
            .post(format!("{}{action}", harness.provider.base_url()))
            .form(&[("request", request_id), ("user", "reader")])
            .send()
    };
    let picked = pick().await.expect("answers");
    let sign_in = SignIn::from_redirect(&picked, verifier);
    assert!(sign_in.cookie.is_some(), "a session starts");
    let body: serde_json::Value = harness.redeem(&sign_in).await.json().await.expect("json");
    let (_, access) = harness
        .verify(body["access_token"].as_str().expect("at"))
        .await;
    assert_eq!(access["roles"], json!(["Reader"]));

    let again = pick().await.expect("answers");
    assert_error_page(again, 9002313).await;
}

#[tokio::test]
async fn user_names_from_a_users_file_are_escaped_on_the_page() {
    let users = Users::from_toml(
        "inline.toml",
        r#"
        [[users]]
        name = "mallory"
        username = "mallory@example.test"
        display_name = "<script>alert('x')</script> & co"
        roles = ["Admin"]
        "#,
    )
    .expect("valid users");
    let harness = Harness::with(Provider::builder().users(users)).await;
    let html = harness
        .authorize(&Authorize::spa(&harness), None)
        .await
        .text()
        .await
        .expect("html");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
}

#[tokio::test]
async fn prompt_none_signs_in_silently_only_with_a_session() {
    let harness = Harness::start().await;
    let silent = |harness: &Harness| Authorize::spa(harness).set("prompt", "none");

    let no_session = harness.authorize(&silent(&harness), None).await;
    assert_error_redirect(&no_session, "login_required", 50058);

    let cookie = harness
        .sign_in_as("admin")
        .await
        .cookie
        .expect("session cookie");
    let request = silent(&harness);
    let verifier = request.pkce.verifier.clone();
    let with_session = harness.authorize(&request, Some(&cookie)).await;
    let sign_in = SignIn::from_redirect(&with_session, verifier);
    assert!(sign_in.cookie.is_none(), "the session goes on");
    let body: serde_json::Value = harness.redeem(&sign_in).await.json().await.expect("json");
    assert_eq!(
        claims(body["access_token"].as_str().expect("at"))["name"],
        "Test Admin"
    );

    let other_user = silent(&harness).set("login_hint", "reader");
    let mismatch = harness.authorize(&other_user, Some(&cookie)).await;
    assert_error_redirect(&mismatch, "login_required", 50058);

    harness
        .provider
        .advance_clock(Duration::from_secs(9 * 3600));
    let expired = harness.authorize(&silent(&harness), Some(&cookie)).await;
    assert_error_redirect(&expired, "login_required", 50058);
}

#[tokio::test]
async fn fragment_mode_puts_the_code_and_errors_in_the_fragment() {
    let harness = Harness::start().await;
    let request = Authorize::spa(&harness).set("response_mode", "fragment");
    let sign_in = harness.sign_in(request.set("login_hint", "editor")).await;
    assert!(harness.redeem(&sign_in).await.status().is_success());

    let response = harness
        .authorize(
            &Authorize::spa(&harness)
                .set("response_mode", "fragment")
                .set("login_hint", "editor"),
            None,
        )
        .await;
    let url = location(&response);
    assert!(url.query().is_none(), "nothing in the query: {url}");
    assert!(
        url.fragment()
            .is_some_and(|f| f.contains("code=") && f.contains("state=state-123"))
    );

    let silent = Authorize::spa(&harness)
        .set("response_mode", "fragment")
        .set("prompt", "none");
    let refused = harness.authorize(&silent, None).await;
    assert!(location(&refused).query().is_none());
    assert_error_redirect(&refused, "login_required", 50058);
}

#[tokio::test]
async fn refresh_tokens_are_rotated_and_the_used_one_is_refused() {
    let harness = Harness::start().await;
    let first = harness.tokens_for("reader").await;
    let old = first["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let harness = &harness;
    let refresh = |token: &str| {
        let form = harness.refresh(token);
        async move { harness.token(&form).await }
    };

    let renewed = refresh(&old).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: serde_json::Value = renewed.json().await.expect("json");
    let new = renewed["refresh_token"]
        .as_str()
        .expect("a new refresh token")
        .to_owned();
    assert_ne!(new, old);
    let (_, access) = harness
        .verify(renewed["access_token"].as_str().expect("at"))
        .await;
    assert_eq!(access["name"], "Test Reader");
    assert!(renewed["id_token"].is_string());

    let reused = refresh(&old).await;
    assert_oauth_error(reused, StatusCode::BAD_REQUEST, "invalid_grant", 70000).await;
    assert_eq!(refresh(&new).await.status(), StatusCode::OK);
    let used_twice = refresh(&new).await;
    assert_oauth_error(used_twice, StatusCode::BAD_REQUEST, "invalid_grant", 70000).await;
}

#[tokio::test]
async fn an_expired_refresh_token_is_refused() {
    let harness = Harness::start().await;
    let body = harness.tokens_for("reader").await;
    harness
        .provider
        .advance_clock(Duration::from_secs(24 * 3600));
    let refresh_token = body["refresh_token"].as_str().expect("rt");
    let response = harness.token(&harness.refresh(refresh_token)).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant", 70008).await;
}

#[tokio::test]
async fn a_spas_rotated_refresh_tokens_keep_the_expiry_of_its_sign_in() {
    let harness = Harness::start().await;
    let body = harness.tokens_for("reader").await;
    assert_eq!(body["refresh_token_expires_in"], 24 * 3600);
    harness
        .provider
        .advance_clock(Duration::from_secs(23 * 3600));
    let refresh_token = body["refresh_token"].as_str().expect("rt");
    let renewed = harness.token(&harness.refresh(refresh_token)).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: serde_json::Value = renewed.json().await.expect("json");
    let left = renewed["refresh_token_expires_in"]
        .as_u64()
        .expect("expires in");
    assert!(
        (3598..=3600).contains(&left),
        "the rotated token carries over the first one's expiry, not a new 24 hours: {left} s"
    );
    harness.provider.advance_clock(Duration::from_secs(3601));
    let rotated = renewed["refresh_token"].as_str().expect("rt");
    let response = harness.token(&harness.refresh(rotated)).await;
    assert_oauth_error(response, StatusCode::BAD_REQUEST, "invalid_grant", 70008).await;
}

#[tokio::test]
async fn sign_out_ends_the_session_and_returns_only_to_a_registered_uri() {
    let harness = Harness::start().await;
    let cookie = harness.sign_in_as("editor").await.cookie.expect("cookie");
    let logout = harness.url("/oauth2/v2.0/logout");
    let silent = |harness: &Harness| Authorize::spa(harness).set("prompt", "none");

    let foreign = harness
        .http
        .get(&logout)
        .query(&[("post_logout_redirect_uri", "https://evil.example/")])
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .expect("answers");
    assert_error_page(foreign, 50011).await;
    let still_signed_in = harness.authorize(&silent(&harness), Some(&cookie)).await;
    assert!(
        param(&redirect_params(&still_signed_in), "code").is_some(),
        "nothing changed"
    );

    let home = harness
        .http
        .get(&logout)
        .query(&[("post_logout_redirect_uri", REDIRECT_URI), ("state", "bye")])
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .expect("answers");
    assert_eq!(home.status(), StatusCode::FOUND);
    assert_eq!(
        location(&home).as_str(),
        format!("{REDIRECT_URI}?state=bye")
    );
    let cleared = home.headers()[header::SET_COOKIE].to_str().expect("ascii");
    assert!(cleared.starts_with("dev_identity_session=;") && cleared.contains("Max-Age=0"));
    let signed_out = harness.authorize(&silent(&harness), Some(&cookie)).await;
    assert_error_redirect(&signed_out, "login_required", 50058);

    let no_target = harness.http.get(&logout).send().await.expect("answers");
    assert_eq!(no_target.status(), StatusCode::OK);
    assert!(
        no_target
            .text()
            .await
            .expect("page")
            .contains("You have signed out")
    );
}
