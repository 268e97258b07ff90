//! The token validation matrix: every rule, each broken on its own, refused with 401 and an RFC
//! 6750 challenge; and the token shapes Entra really issues, accepted.

use serde_json::{Value, json};
use testkit::{
    Alg, SPA_CLIENT_ID, TENANT_ID, TestKey, compact, now, sign, sign_hs256, sign_with,
    signing_input,
};

use crate::helpers::{TestApp, assert_invalid_token};

const OTHER_TENANT: &str = "99999999-8888-4777-a666-555555555555";

/// Sets (or with `Value::Null`, removes) a claim.
fn with(mut claims: Value, claim: &str, value: Value) -> Value {
    let object = claims.as_object_mut().expect("claims object");
    if value.is_null() {
        object.remove(claim);
    } else {
        object.insert(claim.to_owned(), value);
    }
    claims
}

/// The valid token with its signature part replaced.
fn resigned(token: &str, signature: &str) -> String {
    let (head, _) = token.rsplit_once('.').expect("three parts");
    format!("{head}.{signature}")
}

#[tokio::test]
async fn every_broken_rule_is_401_with_invalid_token_challenge() {
    let app = TestApp::spawn().await;
    let primary = &app.primary;
    let foreign = TestKey::foreign();
    let claims = app.keys.claims("alice", &["Admin"]);
    let valid = sign(primary, &claims);
    assert_eq!(
        app.get("/api/me", Some(&valid)).await.status,
        200,
        "control"
    );

    let (header_b64, rest) = valid.split_once('.').expect("parts");
    let (_, signature_b64) = rest.split_once('.').expect("parts");
    let mut flipped = signature_b64.as_bytes().to_vec();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let tampered_claims = with(claims.clone(), "oid", json!("mallory"));
    let now = now();

    let cases: Vec<(&str, String)> = vec![
        ("garbage", "not-a-jwt".into()),
        (
            "alg none",
            compact(&json!({"alg": "none", "kid": "primary"}), &claims, b""),
        ),
        (
            "alg None",
            format!(
                "{}.",
                signing_input(&json!({"alg": "None", "kid": "primary"}), &claims)
            ),
        ),
        (
            "HS256 keyed with the public key",
            sign_hs256(&primary.public_der(), "primary", &claims),
        ),
        ("stripped signature", resigned(&valid, "")),
        (
            "flipped signature",
            resigned(&valid, std::str::from_utf8(&flipped).expect("ascii")),
        ),
        (
            "tampered payload",
            format!(
                "{header_b64}.{}.{signature_b64}",
                signing_input(&json!({}), &tampered_claims)
                    .split_once('.')
                    .expect("dot")
                    .1
            ),
        ),
        (
            "unknown kid",
            sign(&TestKey::primary().with_kid("no-such-kid"), &claims),
        ),
        (
            "missing kid",
            compact(
                &json!({"alg": "RS256", "typ": "JWT"}),
                &claims,
                &primary.sign(
                    Alg::Rs256,
                    signing_input(&json!({"alg": "RS256", "typ": "JWT"}), &claims).as_bytes(),
                ),
            ),
        ),
        (
            "foreign key with a known kid",
            sign(&TestKey::foreign().with_kid("primary"), &claims),
        ),
        (
            "embedded jwk",
            sign_with(
                &foreign.with_kid("primary"),
                Alg::Rs256,
                json!({"jwk": TestKey::foreign().jwk()}),
                &claims,
            ),
        ),
        (
            "jku",
            sign_with(
                &TestKey::foreign(),
                Alg::Rs256,
                json!({"jku": format!("{}/attacker/keys", app.keys.authority_host())}),
                &claims,
            ),
        ),
        (
            "x5u",
            sign_with(
                &TestKey::foreign(),
                Alg::Rs256,
                json!({"x5u": format!("{}/attacker/cert", app.keys.authority_host())}),
                &claims,
            ),
        ),
        ("RS512", sign_with(primary, Alg::Rs512, json!({}), &claims)),
        ("PS256", sign_with(primary, Alg::Ps256, json!({}), &claims)),
        (
            "crit header",
            sign_with(primary, Alg::Rs256, json!({"crit": ["exp"]}), &claims),
        ),
        (
            "expired beyond the leeway",
            sign(primary, &with(claims.clone(), "exp", json!(now - 120))),
        ),
        (
            "nbf in the future",
            sign(primary, &with(claims.clone(), "nbf", json!(now + 120))),
        ),
        (
            "missing exp",
            sign(primary, &with(claims.clone(), "exp", Value::Null)),
        ),
        (
            "exp as a string",
            sign(
                primary,
                &with(claims.clone(), "exp", json!((now + 3600).to_string())),
            ),
        ),
        (
            "missing nbf",
            sign(primary, &with(claims.clone(), "nbf", Value::Null)),
        ),
        (
            "missing aud",
            sign(primary, &with(claims.clone(), "aud", Value::Null)),
        ),
        (
            "aud as an object",
            sign(
                primary,
                &with(claims.clone(), "aud", json!({"aud": testkit::CLIENT_ID})),
            ),
        ),
        (
            "aud of another API",
            sign(
                primary,
                &with(
                    claims.clone(),
                    "aud",
                    json!("api://00000000-0000-0000-0000-000000000001"),
                ),
            ),
        ),
        (
            "missing iss",
            sign(primary, &with(claims.clone(), "iss", Value::Null)),
        ),
        (
            "iss as a list",
            sign(
                primary,
                &with(claims.clone(), "iss", json!([app.keys.v2_issuer()])),
            ),
        ),
        (
            "iss of another tenant",
            sign(
                primary,
                &with(
                    claims.clone(),
                    "iss",
                    json!(app.keys.v2_issuer().replace(TENANT_ID, OTHER_TENANT)),
                ),
            ),
        ),
        (
            "v1 iss of another tenant",
            sign(
                primary,
                &with(
                    claims.clone(),
                    "iss",
                    json!(format!("https://sts.windows.net/{OTHER_TENANT}/")),
                ),
            ),
        ),
        (
            "tid of another tenant",
            sign(primary, &with(claims.clone(), "tid", json!(OTHER_TENANT))),
        ),
        (
            "delegated without access_as_user",
            sign(primary, &with(claims.clone(), "scp", json!("User.Read"))),
        ),
        (
            "neither scp nor roles",
            sign(
                primary,
                &with(
                    with(claims.clone(), "scp", Value::Null),
                    "roles",
                    Value::Null,
                ),
            ),
        ),
        (
            "ID token for the SPA",
            sign(
                primary,
                &with(
                    with(
                        with(
                            with(claims.clone(), "aud", json!(SPA_CLIENT_ID)),
                            "scp",
                            Value::Null,
                        ),
                        "roles",
                        Value::Null,
                    ),
                    "nonce",
                    json!("n-0S6_WzA2Mj"),
                ),
            ),
        ),
        (
            "oversized token",
            sign(
                primary,
                &with(claims.clone(), "padding", json!("x".repeat(17 * 1024))),
            ),
        ),
    ];
    for (case, token) in &cases {
        let reply = app.get("/api/me", Some(token)).await;
        assert_invalid_token(&reply, case);
    }
    assert!(cases.len() >= 33, "matrix lost rows");
}

#[tokio::test]
async fn missing_token_is_401_with_a_bare_challenge() {
    let app = TestApp::spawn().await;
    for request in [
        app.request(reqwest::Method::GET, "/api/tasks"),
        app.request(reqwest::Method::GET, "/api/tasks")
            .header("authorization", "Basic dXNlcjpwYXNz"),
    ] {
        let reply = app.read(request).await;
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.header("www-authenticate"),
            Some(r#"Bearer realm="tasks-api""#)
        );
        assert_eq!(reply.code(), "unauthorized");
    }
}

#[tokio::test]
async fn the_shapes_entra_issues_are_accepted() {
    let app = TestApp::spawn().await;
    let v2 = app.keys.claims("alice", &["Editor", "Reader"]);
    let now = now();
    let v1 = json!({
        "aud": format!("api://{}", testkit::CLIENT_ID),
        "iss": app.keys.v1_issuer(),
        "iat": now, "nbf": now, "exp": now + 3600,
        "oid": "bob", "tid": TENANT_ID, "name": "Bob", "upn": "bob@contoso.example",
        "scp": "User.Read access_as_user", "ver": "1.0",
    });
    let app_only = with(
        with(v2.clone(), "scp", Value::Null),
        "roles",
        json!(["Reader"]),
    );
    let guest_v1 = with(
        with(v1.clone(), "upn", Value::Null),
        "unique_name",
        json!("live.com#carol@example.com"),
    );
    let cases = [
        ("v2 delegated", v2.clone()),
        ("v1 delegated", v1.clone()),
        ("v1 guest with unique_name", guest_v1),
        ("app-only token with roles", app_only),
        (
            "aud as a list",
            with(v2.clone(), "aud", json!(["other", testkit::CLIENT_ID])),
        ),
        (
            "expired within the leeway",
            with(v2.clone(), "exp", json!(now - 30)),
        ),
        (
            "nbf within the leeway",
            with(v2.clone(), "nbf", json!(now + 30)),
        ),
        (
            "fractional NumericDate",
            with(v2.clone(), "exp", json!(now as f64 + 3600.5)),
        ),
    ];
    for (case, claims) in cases {
        let reply = app.get("/api/me", Some(&sign(&app.primary, &claims))).await;
        assert_eq!(reply.status, 200, "{case}: {reply:?}");
    }

    let me = app
        .get("/api/me", Some(&sign(&app.primary, &v1)))
        .await
        .body;
    assert_eq!(
        me,
        json!({"id": "bob", "name": "Bob", "email": "bob@contoso.example", "tenant_id": TENANT_ID,
               "roles": [], "scopes": ["User.Read", "access_as_user"]})
    );
    let me = app
        .get("/api/me", Some(&sign(&app.primary, &v2)))
        .await
        .body;
    assert_eq!(me["email"], "alice@contoso.example");
    assert_eq!(me["roles"], json!(["Editor", "Reader"]));
}

#[tokio::test]
async fn scheme_is_case_insensitive_and_leeway_is_configurable() {
    let app = TestApp::builder()
        .var("TOKEN_CLOCK_SKEW_SECS", "0")
        .start()
        .await;
    let token = app.token("alice", &["Reader"]);
    for scheme in ["bearer", "BEARER", "Bearer"] {
        let request = app
            .request(reqwest::Method::GET, "/api/me")
            .header("authorization", format!("{scheme} {token}"));
        assert_eq!(app.read(request).await.status, 200, "{scheme}");
    }
    let just_expired = with(
        app.keys.claims("alice", &["Reader"]),
        "exp",
        json!(now() - 2),
    );
    let reply = app
        .get("/api/me", Some(&sign(&app.primary, &just_expired)))
        .await;
    assert_invalid_token(&reply, "expired with zero leeway");
}
