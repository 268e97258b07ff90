//! The API trusts the local identity provider (`dev-identity`) the way it trusts Entra ID: the
//! provider runs in-process, the API is configured only from
//! [`RunningProvider::api_environment`], and the tokens come from a real sign-in (code flow,
//! PKCE, `login_hint`), in both access token versions.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use dev_identity::{Provider, RunningProvider, TokenVersion};
use reqwest::Method;
use serde_json::{Value, json};
use testkit::{SpaClient, Tokens};

use crate::helpers::{TestApp, assert_invalid_token};

/// The provider's default users as dev-identity/README.md documents them: `login_hint`, display name, user
/// name, roles, and whether the role lets them create tasks.
const USERS: [(&str, &str, &str, &[&str], bool); 4] = [
    (
        "admin",
        "Test Admin",
        "admin@dev.localhost",
        &["Admin"],
        true,
    ),
    (
        "editor",
        "Test Editor",
        "editor@dev.localhost",
        &["Editor"],
        true,
    ),
    (
        "reader",
        "Test Reader",
        "reader@dev.localhost",
        &["Reader"],
        false,
    ),
    ("guest", "Test Guest", "guest@dev.localhost", &[], false),
];

struct Stack {
    provider: RunningProvider,
    app: TestApp,
    spa: SpaClient,
}

impl Stack {
    async fn start(version: TokenVersion) -> Self {
        let provider = Provider::builder()
            .access_token_version(version)
            .spawn()
            .await
            .expect("dev-identity starts");
        let mut app = TestApp::builder();
        for (name, value) in provider.api_environment() {
            app = app.var(name, &value);
        }
        let app = app.start().await;
        let spa = SpaClient {
            authority: provider.authority().to_owned(),
            client_id: provider.spa_client_id().to_string(),
            redirect_uri: provider.redirect_uris()[0].to_string(),
            api_scope: format!("api://{}/access_as_user", provider.api_client_id()),
        };
        Stack { provider, app, spa }
    }

    async fn sign_in(&self, user: &str) -> Tokens {
        self.spa
            .sign_in(user)
            .await
            .unwrap_or_else(|e| panic!("{user} signs in: {e}"))
    }
}

/// Every default user, with tokens of `version`: `/api/me` maps the claims, the roles decide
/// what they may do, and the ID token (the SPA's) is refused.
async fn users_are_recognised_and_held_to_their_roles(version: TokenVersion) {
    let stack = Stack::start(version).await;
    let app = &stack.app;
    for (hint, name, username, roles, can_create) in USERS {
        let case = format!("{version:?} {hint}");
        let tokens = stack.sign_in(hint).await;
        let oid = stack
            .provider
            .users()
            .find(hint)
            .expect("a default user")
            .oid();

        let me = app.get("/api/me", Some(&tokens.access_token)).await;
        assert_eq!(me.status, 200, "{case}: {me:?}");
        assert_eq!(
            me.body,
            json!({
                "id": oid.to_string(),
                "name": name,
                "email": username,
                "tenant_id": stack.provider.tenant_id().to_string(),
                "roles": roles,
                "scopes": ["access_as_user"],
            }),
            "{case}"
        );

        let title = format!("{hint}'s task");
        let created = app
            .send(
                Method::POST,
                "/api/tasks",
                Some(&tokens.access_token),
                Some(&json!({ "title": title })),
            )
            .await;
        if can_create {
            assert_eq!(created.status, 201, "{case}: {created:?}");
            assert_eq!(created.body["owner_id"], oid.to_string(), "{case}");
            assert_eq!(created.body["owner_name"], name, "{case}");
        } else {
            assert_eq!(
                (created.status, created.code()),
                (403, "forbidden"),
                "{case}"
            );
        }

        let refused = app.get("/api/me", Some(&tokens.id_token)).await;
        assert_invalid_token(&refused, &format!("{case}: ID token"));
    }
    let titles: Vec<String> = app.all_tasks().await.into_iter().map(|t| t.title).collect();
    assert_eq!(titles, ["admin's task", "editor's task"], "{version:?}");
}

#[tokio::test]
async fn v1_access_tokens_of_every_test_user_are_accepted_and_id_tokens_refused() {
    users_are_recognised_and_held_to_their_roles(TokenVersion::V1).await;
}

#[tokio::test]
async fn v2_access_tokens_of_every_test_user_are_accepted_and_id_tokens_refused() {
    users_are_recognised_and_held_to_their_roles(TokenVersion::V2).await;
}

/// The access token's claims are Entra's for each version, so the API is tested against the
/// shapes it will meet in production, not only against what it happens to accept.
#[tokio::test]
async fn access_tokens_carry_the_audience_and_issuer_of_their_version() {
    for (version, audience, issuer_suffix, user_claim) in [
        (TokenVersion::V1, "api://", "/", "upn"),
        (TokenVersion::V2, "", "/v2.0", "preferred_username"),
    ] {
        let stack = Stack::start(version).await;
        let claims = payload(&stack.sign_in("reader").await.access_token);
        let api = stack.provider.api_client_id();
        assert_eq!(claims["aud"], format!("{audience}{api}"), "{version:?}");
        assert_eq!(
            claims["iss"],
            format!("{}{issuer_suffix}", stack.provider.authority()),
            "{version:?}"
        );
        assert_eq!(claims[user_claim], "reader@dev.localhost", "{version:?}");
    }
}

#[tokio::test]
async fn tokens_signed_with_a_rotated_key_are_accepted() {
    let stack = Stack::start(TokenVersion::V2).await;
    let before = stack.sign_in("editor").await.access_token;
    assert_eq!(stack.app.get("/api/me", Some(&before)).await.status, 200);

    let kid = stack
        .provider
        .rotate_signing_key()
        .await
        .expect("the key rotates");
    let after = stack.sign_in("editor").await.access_token;
    assert_eq!(
        header(&after)["kid"],
        kid.as_str(),
        "signed with the new key"
    );
    assert_ne!(header(&before)["kid"], kid.as_str());

    let me = stack.app.get("/api/me", Some(&after)).await;
    assert_eq!(
        me.status, 200,
        "new kid accepted after a key refresh: {me:?}"
    );
    assert_eq!(me.body["name"], "Test Editor");
    let me = stack.app.get("/api/me", Some(&before)).await;
    assert_eq!(
        me.status, 200,
        "the previous key is still published: {me:?}"
    );
}

fn header(token: &str) -> Value {
    decode_part(token, 0)
}

fn payload(token: &str) -> Value {
    decode_part(token, 1)
}

fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a compact JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}
