//! Microsoft's own client library accepts the local identity provider: MSAL for Node
//! (`@azure/msal-node`, a released version from npm, installed by `cargo xtask install ci`) signs
//! in against `dev-identity` over HTTPS as a desktop app would, and the API binary, trusting the
//! provider's local CA through `SSL_CERT_FILE`, accepts the access tokens MSAL got. In both access
//! token versions. The MSAL side is `msal.cjs`; everything runs on loopback.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use dev_identity::{Provider, RunningProvider, TokenVersion};
use reqwest::StatusCode;
use serde_json::Value;

use crate::binary::{Running, backend};

/// The pinned release, as in xtask's tool catalog.
const MSAL_NODE: &str = "@azure/msal-node";
const MSAL_NODE_VERSION: &str = "7.2.4";
/// Sign-ins of four users, an interactive one and a sign-in only: seconds; this is a hang.
const NODE_DEADLINE: Duration = Duration::from_secs(120);
/// The `max_age` MSAL's requests carry; sign-ins happen during the test, so well within it.
const MAX_AGE_SECS: u64 = 600;

/// `node_modules` holding `@azure/msal-node`, where `cargo xtask install ci` puts it
/// (`$CARGO_HOME/xtask-tools/npm/@azure+msal-node@VERSION`), or one line saying how to get it.
fn msal_node_modules() -> Result<PathBuf, String> {
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"));
    let modules = cargo_home
        .join("xtask-tools/npm")
        .join(format!(
            "{}@{MSAL_NODE_VERSION}",
            MSAL_NODE.replace('/', "+")
        ))
        .join("lib/node_modules");
    if modules.join(MSAL_NODE).join("package.json").is_file() {
        Ok(modules)
    } else {
        Err(format!(
            "{MSAL_NODE} {MSAL_NODE_VERSION} is not installed (looked in {}): run `cargo xtask install ci`",
            modules.display()
        ))
    }
}

/// The provider over HTTPS (its CA in a temporary data folder) and the API binary trusting it.
struct Stack {
    provider: RunningProvider,
    api: Running,
    api_url: String,
    http: reqwest::Client,
    _data: tempfile::TempDir,
}

impl Stack {
    async fn start(version: TokenVersion) -> Self {
        let data = tempfile::tempdir().expect("temporary data folder");
        let provider = Provider::builder()
            .https(data.path())
            .access_token_version(version)
            .spawn()
            .await
            .expect("dev-identity starts with HTTPS");
        let ca = provider.ca_certificate().expect("a local CA").to_owned();
        let database = data.path().join("tasks.db");
        let mut command = backend();
        command
            .envs(provider.api_environment())
            .env("SSL_CERT_FILE", &ca)
            .env("DATABASE_URL", format!("sqlite://{}", database.display()))
            .env("BIND_ADDRESS", "127.0.0.1")
            .env("PORT", "0")
            .env("LOG_FORMAT", "json");
        let mut api = Running::spawn(command);
        let api_url = api.base_url();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let stack = Stack {
            provider,
            api,
            api_url,
            http,
            _data: data,
        };
        stack.wait_until_ready().await;
        stack
    }

    /// Until the API has the provider's keys, fetched over HTTPS.
    async fn wait_until_ready(&self) {
        for _ in 0..150 {
            let ready = self
                .http
                .get(format!("{}/ready", self.api_url))
                .send()
                .await;
            if ready.is_ok_and(|r| r.status() == StatusCode::OK) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the API did not load the keys over HTTPS within 15 s; its log:\n{}",
            self.api.seen.join("\n")
        );
    }

    /// `msal.cjs` against this stack: its JSON report.
    async fn run_msal(&self, users: &[&str]) -> Value {
        let modules = msal_node_modules().unwrap_or_else(|fix| panic!("{fix}"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/msal.cjs");
        let child = tokio::process::Command::new("node")
            .arg(&script)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("NODE_PATH", &modules)
            .env(
                "NODE_EXTRA_CA_CERTS",
                self.provider.ca_certificate().expect("CA"),
            )
            .env("AUTHORITY", self.provider.authority())
            .env("CLIENT_ID", self.provider.public_client_id().to_string())
            .env(
                "API_SCOPE",
                format!("api://{}/access_as_user", self.provider.api_client_id()),
            )
            .env("USERS", users.join(","))
            .env("MAX_AGE", MAX_AGE_SECS.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run node ({e}): install Node.js 20 or later (apt-get install nodejs npm)")
            });
        let output = tokio::time::timeout(NODE_DEADLINE, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("MSAL did not finish within {NODE_DEADLINE:?}"))
            .expect("node runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "MSAL failed:\n{stderr}");
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("MSAL's report is not JSON ({e}):\n{stderr}"))
    }

    /// `/api/me` with `token`: the status and the body.
    async fn me(&self, token: &str) -> (StatusCode, Value) {
        let response = self
            .http
            .get(format!("{}/api/me", self.api_url))
            .bearer_auth(token)
            .send()
            .await
            .expect("the API answers");
        let status = response.status();
        let body = response.bytes().await.expect("a body");
        (status, serde_json::from_slice(&body).unwrap_or_default())
    }

    /// What the API says `token`'s holder is: their display name and roles.
    async fn api_sees(&self, token: &str, case: &str) -> (String, Vec<String>) {
        let (status, me) = self.me(token).await;
        assert_eq!(status, StatusCode::OK, "{case}: {me}");
        let roles = me["roles"]
            .as_array()
            .expect("roles")
            .iter()
            .map(|role| role.as_str().expect("a role").to_owned())
            .collect();
        (me["name"].as_str().expect("name").to_owned(), roles)
    }

    fn expected(&self, user: &str) -> (String, Vec<String>) {
        let user = self.provider.users().find(user).expect("a default user");
        let roles = user.roles().iter().map(|r| r.as_str().to_owned()).collect();
        (user.display_name().to_owned(), roles)
    }
}

/// The `ver` claim of a JWT (unverified: the API verifies).
fn version_of(token: &str) -> String {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    let payload = token.split('.').nth(1).expect("a JWT");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("json");
    claims["ver"].as_str().expect("ver").to_owned()
}

async fn msal_signs_in_and_the_api_accepts_its_tokens(version: TokenVersion) {
    let users = ["admin", "editor", "reader", "guest"];
    // Before starting anything: the one line saying how to install MSAL, if it is missing.
    msal_node_modules().unwrap_or_else(|fix| panic!("{fix}"));
    let stack = Stack::start(version).await;
    let report = stack.run_msal(&users).await;
    let tenant = stack.provider.tenant_id().to_string();
    let public_client = stack.provider.public_client_id().to_string();
    let ver = match version {
        TokenVersion::V1 => "1.0",
        TokenVersion::V2 => "2.0",
    };
    for user in users {
        let case = format!("{version:?} {user}");
        let got = &report["users"][user];
        let oid = stack.provider.users().find(user).expect("user").oid();
        // MSAL built its account from client_info: `{uid}.{utid}`.
        assert_eq!(got["home_account_id"], format!("{oid}.{tenant}"), "{case}");
        assert_eq!(got["tenant_id"], tenant, "{case}");
        assert_eq!(got["username"], format!("{user}@dev.localhost"), "{case}");
        assert!(got["client_info"].is_string(), "{case}: {got}");
        assert_eq!(got["cached_accounts"], 1, "{case}");
        let id = &got["id_token_claims"];
        assert_eq!(id["aud"], public_client, "{case}");
        assert!(
            id["nonce"].is_string() && id["auth_time"].is_u64(),
            "{case}: {id}"
        );

        let token = got["access_token"].as_str().expect("an access token");
        let renewed = got["renewed"]["access_token"]
            .as_str()
            .expect("a renewed access token");
        assert_ne!(token, renewed, "{case}: the refresh token gave a new token");
        assert_eq!(version_of(token), ver, "{case}");
        for token in [token, renewed] {
            assert_eq!(
                stack.api_sees(token, &case).await,
                stack.expected(user),
                "{case}"
            );
        }
    }

    let interactive = &report["interactive"];
    assert_eq!(interactive["username"], "editor@dev.localhost");
    // MSAL's own loopback listener, on the port the system gave it, answered by form_post.
    let listener = reqwest::Url::parse(interactive["redirect_uri"].as_str().expect("redirect_uri"))
        .expect("a URL");
    assert_eq!(
        (listener.scheme(), listener.host_str()),
        ("http", Some("localhost")),
        "{listener}"
    );
    assert!(listener.port().is_some_and(|port| port != 0), "{listener}");
    assert_eq!(interactive["response_mode"], "form_post");
    let token = interactive["access_token"].as_str().expect("access token");
    assert_eq!(
        stack.api_sees(token, "interactive").await,
        stack.expected("editor")
    );

    let signed_in = &report["sign_in_only"]["signed_in"];
    assert_eq!(signed_in["username"], "reader@dev.localhost");
    let graph = signed_in["access_token"].as_str().expect("Graph's token");
    assert_eq!(
        stack.me(graph).await.0,
        StatusCode::UNAUTHORIZED,
        "a sign-in only's token is not the API's"
    );
    let later = report["sign_in_only"]["api"]["access_token"]
        .as_str()
        .expect("a token for the API, silently");
    assert_eq!(
        stack.api_sees(later, "sign-in only, then the API").await,
        stack.expected("reader")
    );
}

#[tokio::test]
async fn msal_signs_in_over_https_and_the_api_accepts_its_v1_tokens() {
    msal_signs_in_and_the_api_accepts_its_tokens(TokenVersion::V1).await;
}

#[tokio::test]
async fn msal_signs_in_over_https_and_the_api_accepts_its_v2_tokens() {
    msal_signs_in_and_the_api_accepts_its_tokens(TokenVersion::V2).await;
}
