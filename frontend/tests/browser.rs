//! The browser glue, in a real browser (headless Chromium through chromedriver):
//! `crypto.getRandomValues`, the `sessionStorage` cache, and loading `/config.json`.
//! How to run: frontend/README.md, "Tests". Natively this file compiles to nothing.
#![cfg(target_arch = "wasm32")]

use std::collections::HashSet;

use frontend::auth::{Key, SessionCache, pkce, random_token};
use frontend::config::{self, Config, ConfigError};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

fn session_storage() -> web_sys::Storage {
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .expect("sessionStorage")
}

#[wasm_bindgen_test]
fn random_tokens_are_unguessable_and_url_safe() {
    let tokens: HashSet<String> = (0..64).map(|_| random_token().expect("random")).collect();
    assert_eq!(tokens.len(), 64, "every token differs");
    for token in &tokens {
        assert_eq!(token.len(), 43);
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{token}"
        );
    }
}

/// RFC 7636 appendix B: the S256 challenge of its example verifier, hashed by Web Crypto.
#[wasm_bindgen_test]
async fn pkce_challenge_of_rfc_7636_appendix_b() {
    let challenge = pkce::challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        .await
        .expect("Web Crypto");
    assert_eq!(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
}

/// The browser's JSON layer (`JSON.parse`, serde-wasm-bindgen) with the checks it does not make
/// itself: `config.json` with a key given twice or a key it does not have is refused.
#[wasm_bindgen_test]
fn config_json_refuses_repeated_and_unknown_keys() {
    const ORIGIN: &str = "http://localhost:8080";
    let good = r#"{"clientId":"11111111-2222-3333-4444-555555555555",
        "authority":"https://login.microsoftonline.com/contoso.com",
        "apiScope":"api://99999999-2222-3333-4444-555555555555/access_as_user",
        "apiBaseUrl":"https://api.example.com"}"#;
    let config = Config::parse(good, ORIGIN).expect("valid");
    assert_eq!(config.redirect_uri, "http://localhost:8080/");
    for (bad, named) in [
        (
            good.replacen('{', r#"{"apiBaseUrl":"https://b.example","#, 1),
            "duplicate field `apiBaseUrl`",
        ),
        (
            good.replacen('{', r#"{"clientSecret":"x","#, 1),
            "unknown field `clientSecret`",
        ),
        (good.replace("\"apiScope\"", "\"apiscope\""), "apiscope"),
    ] {
        let error = Config::parse(&bad, ORIGIN).expect_err(&bad);
        assert!(error.to_string().contains(named), "{error}");
    }
}

#[wasm_bindgen_test]
fn cache_keeps_values_in_session_storage_only() {
    session_storage().clear().expect("clear");
    let cache = SessionCache::new("client-a");
    cache
        .set(Key::RefreshToken, &"rt-1".to_owned())
        .expect("set");
    cache
        .set(Key::InteractiveAt, &1_700_000_000_u64)
        .expect("set");

    assert_eq!(
        cache.get::<String>(Key::RefreshToken).as_deref(),
        Some("rt-1")
    );
    assert_eq!(cache.get::<u64>(Key::InteractiveAt), Some(1_700_000_000));
    assert_eq!(
        session_storage()
            .get_item("entra-spa.client-a.refresh_token")
            .expect("get")
            .as_deref(),
        Some("\"rt-1\"")
    );
    let local = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .expect("localStorage");
    assert_eq!(
        local.length().expect("length"),
        0,
        "nothing goes to localStorage"
    );

    // Another app (client id) on the same origin does not see these entries.
    assert_eq!(
        SessionCache::new("client-b").get::<String>(Key::RefreshToken),
        None
    );
}

#[wasm_bindgen_test]
fn take_consumes_and_clear_removes_only_this_apps_entries() {
    session_storage().clear().expect("clear");
    let cache = SessionCache::new("client-a");
    let other = SessionCache::new("client-b");
    cache.set(Key::Request, &"pending".to_owned()).expect("set");
    cache.set(Key::AccessToken, &"at".to_owned()).expect("set");
    other
        .set(Key::AccessToken, &"other-at".to_owned())
        .expect("set");

    assert_eq!(
        cache.take::<String>(Key::Request).as_deref(),
        Some("pending")
    );
    assert_eq!(
        cache.take::<String>(Key::Request),
        None,
        "a request is used once"
    );

    cache.clear();
    assert_eq!(cache.get::<String>(Key::AccessToken), None);
    assert_eq!(
        other.get::<String>(Key::AccessToken).as_deref(),
        Some("other-at")
    );
}

#[wasm_bindgen_test]
fn unreadable_entries_are_dropped() {
    session_storage().clear().expect("clear");
    session_storage()
        .set_item("entra-spa.client-a.account", "{not json")
        .expect("set");
    let cache = SessionCache::new("client-a");
    assert_eq!(cache.get::<String>(Key::Account), None);
    assert_eq!(
        session_storage()
            .get_item("entra-spa.client-a.account")
            .expect("get"),
        None
    );
}

/// The test server has no `/config.json`, like a deployment that forgot to write it.
#[wasm_bindgen_test]
async fn missing_config_is_a_clear_error() {
    let error = config::load().await.expect_err("no config.json here");
    assert!(
        matches!(error, ConfigError::Status(404) | ConfigError::NotJson),
        "{error:?}"
    );
    assert!(
        error.to_string().starts_with("/config.json is missing"),
        "{error}"
    );
}
