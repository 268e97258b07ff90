//! Key Vault mode end to end: the real `backend` binary, configured as in Azure, against
//! stand-ins for Key Vault (TLS, bearer challenge), the Container Apps managed identity endpoint
//! and Entra's keys, all on loopback.
//!
//! The binary reaches the vault exactly as in Azure (`https://testkit-vault.vault.azure.net/`,
//! certificate checked) because it honours two standard variables: `HTTPS_PROXY`, pointing at a
//! proxy that tunnels only that host to the stand-in, and `SSL_CERT_FILE`, the stand-in's CA. So
//! the binary carries no test-only switch, and production code runs unchanged.

use std::{collections::HashMap, process::Stdio, time::Duration};

use serde_json::Value;
use testkit::{
    CLIENT_ID, KeyServer, TENANT_ID, TestKey,
    azure::{ConnectProxy, IdentityEndpoint, KeyVaultServer, TestCa, VAULT_HOST, VAULT_RESOURCE},
};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
    sync::mpsc,
    time::{Instant, timeout},
};

const TENANT_SECRET: &str = "azure-tenant-id";
const CLIENT_SECRET: &str = "azure-api-client-id";
/// The longest any step waits (start-up, a state change, an exit).
const WAIT: Duration = Duration::from_secs(30);

/// The Azure side: vault, identity endpoint, proxy, CA, and Entra's keys.
struct Azure {
    ca: TestCa,
    vault: KeyVaultServer,
    identity: IdentityEndpoint,
    proxy: ConnectProxy,
    keys: KeyServer,
    primary: TestKey,
    /// The managed identity's access token: issued by `identity`, required by `vault`.
    token: String,
}

impl Azure {
    /// Everything up, the vault holding the test tenant's ids.
    async fn start() -> Self {
        let ca = TestCa::new();
        let token = testkit::azure::new_access_token();
        let vault = KeyVaultServer::start(&ca, &token).await;
        vault.set_secret(TENANT_SECRET, TENANT_ID);
        vault.set_secret(CLIENT_SECRET, CLIENT_ID);
        let identity = IdentityEndpoint::start(&token).await;
        let target = format!("{VAULT_HOST}:443");
        let proxy = ConnectProxy::start(&[(target.as_str(), vault.addr())]).await;
        let primary = TestKey::primary();
        let keys = KeyServer::start(&[&primary]).await;
        Self {
            ca,
            vault,
            identity,
            proxy,
            keys,
            primary,
            token,
        }
    }

    /// The Container App's environment, as Terraform and the platform set it.
    fn env(&self) -> HashMap<&'static str, String> {
        [
            ("AZURE_KEY_VAULT_URL", self.vault.url()),
            ("IDENTITY_ENDPOINT", self.identity.endpoint().to_owned()),
            ("IDENTITY_HEADER", self.identity.header().to_owned()),
            ("HTTPS_PROXY", self.proxy.url().to_owned()),
            ("NO_PROXY", "127.0.0.1,localhost".to_owned()),
            ("SSL_CERT_FILE", self.ca.pem_file().display().to_string()),
            (
                "AZURE_AUTHORITY_HOST",
                self.keys.authority_host().to_owned(),
            ),
            ("BIND_ADDRESS", "127.0.0.1".to_owned()),
            ("PORT", "0".to_owned()),
            ("LOG_FORMAT", "json".to_owned()),
            ("RUST_LOG", "debug".to_owned()),
            ("CONFIG_LOAD_TIMEOUT_SECS", "20".to_owned()),
            ("KEY_VAULT_REFRESH_SECS", "0".to_owned()),
        ]
        .into_iter()
        .collect()
    }

    /// A valid token from a user of `tenant` for the API `client`.
    fn token_for(&self, tenant: &str, client: &str) -> String {
        let claims = self.keys.claims_for(tenant, client, "alice", &["Reader"]);
        testkit::sign(&self.primary, &claims)
    }
}

/// The `backend` binary, its logs (stdout and stderr, line by line) and its address.
struct Api {
    child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    /// Every line read so far.
    log: Vec<String>,
    address: Option<String>,
    http: reqwest::Client,
}

impl Api {
    async fn start(env: &HashMap<&'static str, String>) -> Self {
        let mut child = Command::from(crate::binary::backend())
            .envs(env)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start backend");
        let (sender, lines) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for stream in [
            Box::new(stdout) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
            Box::new(stderr),
        ] {
            let sender = sender.clone();
            tokio::spawn(async move {
                let mut reader = BufReader::new(stream).lines();
                while let Ok(Some(line)) = reader.next_line().await {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let mut api = Self {
            child,
            lines,
            log: Vec::new(),
            address: None,
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(WAIT)
                .build()
                .expect("client"),
        };
        let listening = api.wait_for_message("listening").await;
        api.address = listening["fields"]["address"].as_str().map(str::to_owned);
        api
    }

    /// The next log entry (JSON) for which `wanted` holds; panics after [`WAIT`].
    async fn wait_for(&mut self, wanted: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let line = match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => line,
                Ok(None) => panic!("the API exited; its log:\n{}", self.log.join("\n")),
                Err(_) => panic!(
                    "no such log line within {WAIT:?}; log:\n{}",
                    self.log.join("\n")
                ),
            };
            self.log.push(line.clone());
            if let Ok(entry) = serde_json::from_str::<Value>(&line)
                && wanted(&entry)
            {
                return entry;
            }
        }
    }

    async fn wait_for_message(&mut self, message: &str) -> Value {
        self.wait_for(|entry| entry["fields"]["message"] == message)
            .await
    }

    /// Waits for the process to exit; its exit code, the whole log read.
    async fn exit_code(&mut self) -> Option<i32> {
        let status = timeout(WAIT, self.child.wait())
            .await
            .expect("the API exits in time")
            .expect("wait for the API");
        while let Ok(Some(line)) = timeout(Duration::from_secs(5), self.lines.recv()).await {
            self.log.push(line);
        }
        status.code()
    }

    async fn get(&self, path: &str, token: Option<&str>) -> u16 {
        let address = self.address.as_deref().expect("listening address");
        let mut request = self.http.get(format!("http://{address}{path}"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("request").status().as_u16()
    }

    async fn wait_until_ready(&self) {
        let deadline = Instant::now() + WAIT;
        while self.get("/ready", None).await != 200 {
            assert!(Instant::now() < deadline, "not ready within {WAIT:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Log entries whose message is `message`.
    fn entries(&self, message: &str) -> Vec<Value> {
        self.log
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|entry| entry["fields"]["message"] == message)
            .collect()
    }

    /// No log line contains any of `values` (secret values, the identity's token).
    fn assert_never_logged(&self, values: &[&str]) {
        assert!(!self.log.is_empty());
        for line in &self.log {
            for value in values {
                assert!(!line.contains(value), "{value:?} was logged: {line}");
            }
        }
    }

    /// The reason the process gave up: the last error line.
    fn final_error(&self) -> String {
        self.log
            .iter()
            .rev()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|entry| entry["level"] == "ERROR")
            .map(|entry| {
                entry["fields"]["error"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .unwrap_or_else(|| panic!("no error logged:\n{}", self.log.join("\n")))
    }
}

const DECOY_TENANT: &str = "dec0e000-0000-4000-8000-00000000dec0";
const DECOY_CLIENT: &str = "dec0e000-1111-4000-8000-00000000dec1";

#[tokio::test(flavor = "multi_thread")]
async fn serves_while_loading_then_validates_tokens_of_the_vaults_tenant_only() {
    let azure = Azure::start().await;
    // Slow vault: the probes can be observed while the configuration loads.
    azure.vault.set_delay(Duration::from_millis(1500));
    let mut env = azure.env();
    env.insert("AZURE_TENANT_ID", DECOY_TENANT.into());
    env.insert("AZURE_API_CLIENT_ID", DECOY_CLIENT.into());
    let mut api = Api::start(&env).await;

    assert_eq!(api.get("/health", None).await, 200, "live while loading");
    assert_eq!(
        api.get("/ready", None).await,
        503,
        "not ready while loading"
    );
    let token = azure.token_for(TENANT_ID, CLIENT_ID);
    assert_eq!(api.get("/api/tasks", Some(&token)).await, 503);
    azure.vault.set_delay(Duration::ZERO);
    api.wait_for_message("configuration loaded from Key Vault")
        .await;
    api.wait_until_ready().await;

    assert_eq!(api.get("/api/tasks", Some(&token)).await, 200);
    let decoy = azure.token_for(DECOY_TENANT, DECOY_CLIENT);
    assert_eq!(
        api.get("/api/tasks", Some(&decoy)).await,
        401,
        "env ids ignored"
    );

    // The wire: the challenge first, then only the managed identity's token, over the proxy.
    let authorizations = azure.vault.authorizations();
    assert_eq!(
        authorizations.first().map(String::as_str),
        Some(""),
        "challenge first"
    );
    let bearer = format!("Bearer {}", azure.token);
    assert!(
        authorizations[1..].iter().all(|a| *a == bearer),
        "{authorizations:?}"
    );
    assert_eq!(azure.vault.secrets_served(), 2);
    let requests = azure.identity.requests();
    assert!(!requests.is_empty());
    for request in requests {
        assert_eq!(request["api-version"], "2019-08-01");
        assert_eq!(request["resource"], VAULT_RESOURCE);
        assert!(!request.contains_key("client_id"), "system-assigned");
    }
    assert!(
        azure
            .proxy
            .tunnels()
            .iter()
            .all(|t| *t == format!("{VAULT_HOST}:443"))
    );

    drop(api.child.start_kill());
    api.exit_code().await;
    let ignored: Vec<Value> = api
        .log
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|e| e["level"] == "WARN" && e.to_string().contains("AZURE_TENANT_ID"))
        .collect();
    assert_eq!(ignored.len(), 1, "exactly one warning: {ignored:?}");
    assert_eq!(
        ignored[0]["fields"]["variables"],
        r#"["AZURE_TENANT_ID", "AZURE_API_CLIENT_ID"]"#
    );
    api.assert_never_logged(&[
        TENANT_ID,
        CLIENT_ID,
        &azure.token,
        DECOY_TENANT,
        DECOY_CLIENT,
    ]);
}

/// In Key Vault mode the tenant id is a vault secret: when Entra's discovery fails (down, or
/// nothing listening at the authority host), the error names host, path shape and cause, with
/// `{tenant}` in place of the id, and no log line (debug included) holds the id.
#[tokio::test(flavor = "multi_thread")]
async fn failed_entra_discovery_is_logged_without_the_tenant_id() {
    let azure = Azure::start().await;
    azure.keys.set_available(false);
    let nothing_listens = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("address"))
    };
    let cases = [
        (
            "Entra answers 503",
            azure.keys.authority_host(),
            "status 503",
        ),
        ("nothing listens", nothing_listens.as_str(), "refused"),
    ];
    for (case, authority, cause) in cases {
        let mut env = azure.env();
        env.insert("AZURE_AUTHORITY_HOST", authority.to_owned());
        let mut api = Api::start(&env).await;
        let failed = api
            .wait_for_message("signing keys could not be refreshed")
            .await;
        let error = failed["fields"]["error"].as_str().unwrap_or_default();
        let url = format!(
            "{}/{{tenant}}/v2.0/.well-known/openid-configuration",
            authority.trim_end_matches('/')
        );
        assert!(
            error.contains(&url) && error.contains(cause),
            "{case}: {error}"
        );
        drop(api.child.start_kill());
        api.exit_code().await;
        api.assert_never_logged(&[TENANT_ID]);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_while_the_role_assignment_propagates() {
    let azure = Azure::start().await;
    azure.vault.forbid(2);
    let user_assigned = "5a5a5a5a-0000-4000-8000-00000000a55d";
    let mut env = azure.env();
    env.insert("AZURE_MANAGED_IDENTITY_CLIENT_ID", user_assigned.into());
    let mut api = Api::start(&env).await;
    let retry = api
        .wait_for_message("configuration not loaded from Key Vault yet")
        .await;
    let cause = retry["fields"]["cause"].as_str().unwrap_or_default();
    assert!(cause.contains("\"Key Vault Secrets User\" role"), "{retry}");
    api.wait_for_message("configuration loaded from Key Vault")
        .await;
    api.wait_until_ready().await;
    let token = azure.token_for(TENANT_ID, CLIENT_ID);
    assert_eq!(api.get("/api/me", Some(&token)).await, 200);
    let requests = azure.identity.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.get("client_id").map(String::as_str) == Some(user_assigned)),
        "user-assigned identity asked for: {requests:?}"
    );
    // Two 403s, two retries.
    assert_eq!(
        api.entries("configuration not loaded from Key Vault yet")
            .len(),
        2
    );
}

/// Starts the API with `env` and a short deadline; the reason it gave up.
async fn gives_up(env: HashMap<&'static str, String>, secrets: &[&str]) -> String {
    let mut env = env;
    env.insert("CONFIG_LOAD_TIMEOUT_SECS", "2".into());
    let started = Instant::now();
    let mut api = Api::start(&env).await;
    assert_eq!(api.get("/health", None).await, 200, "live while retrying");
    assert_eq!(api.exit_code().await, Some(1));
    assert!(started.elapsed() < Duration::from_secs(15), "gave up late");
    api.assert_never_logged(secrets);
    api.final_error()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_role_until_the_deadline_exits_with_the_role_hint() {
    let azure = Azure::start().await;
    azure.vault.forbid(usize::MAX);
    let error = gives_up(azure.env(), &[&azure.token]).await;
    assert!(
        error.contains("within 2 s")
            && error.contains("grant it the \"Key Vault Secrets User\" role on the vault"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_invalid_secrets_exit_naming_the_secret_not_the_value() {
    let azure = Azure::start().await;
    let cases = [
        (
            Some(("azure-api-client-id", None)),
            "secret \"azure-api-client-id\" is not in the vault (404): deploy.sh seeds it",
        ),
        (
            Some(("azure-tenant-id", Some(""))),
            "secret \"azure-tenant-id\" is empty",
        ),
        (
            Some(("azure-tenant-id", Some("contoso-s3cr3t-value"))),
            "secret \"azure-tenant-id\" is not a GUID",
        ),
    ];
    for (change, expected) in cases {
        azure.vault.set_secret(TENANT_SECRET, TENANT_ID);
        azure.vault.set_secret(CLIENT_SECRET, CLIENT_ID);
        match change {
            Some((name, None)) => azure.vault.remove_secret(name),
            Some((name, Some(value))) => azure.vault.set_secret(name, value),
            None => {}
        }
        let error = gives_up(azure.env(), &["contoso-s3cr3t-value", &azure.token]).await;
        assert!(error.contains(expected), "{expected}: {error}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_managed_identity_exits_with_the_identity_hint() {
    let azure = Azure::start().await;
    // Nothing listens there: the platform's identity endpoint is down (or was never set up).
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}/msi/token", closed.local_addr().expect("address"));
    drop(closed);
    let mut env = azure.env();
    env.insert("IDENTITY_ENDPOINT", endpoint);
    let error = gives_up(env, &[&azure.token]).await;
    assert!(
        error.contains("the managed identity could not get a token: is a managed identity enabled"),
        "{error}"
    );
    assert_eq!(azure.vault.secrets_served(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_untrusted_vault_certificate_points_at_the_vault_url() {
    let azure = Azure::start().await;
    let mut env = azure.env();
    env.remove("SSL_CERT_FILE");
    let error = gives_up(env, &[&azure.token]).await;
    assert!(
        error.contains("cannot reach the vault: check AZURE_KEY_VAULT_URL")
            && error.to_lowercase().contains("certificate"),
        "{error}"
    );
    assert!(
        azure.identity.requests().is_empty(),
        "no token sent to an unverified host"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rotated_secrets_are_picked_up_and_a_bad_refresh_keeps_the_current_ids() {
    let azure = Azure::start().await;
    let mut env = azure.env();
    env.insert("KEY_VAULT_REFRESH_SECS", "1".into());
    let mut api = Api::start(&env).await;
    api.wait_until_ready().await;
    let old = azure.token_for(TENANT_ID, CLIENT_ID);
    assert_eq!(api.get("/api/tasks", Some(&old)).await, 200);

    let new_tenant = "0f0f0f0f-2222-4333-8444-955566677788";
    let new_client = "1e1e1e1e-3333-4444-8555-a66677788899";
    azure.vault.set_secret(TENANT_SECRET, new_tenant);
    azure.vault.set_secret(CLIENT_SECRET, new_client);
    let changed = api
        .wait_for(|e| {
            e["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("configuration changed in Key Vault: "))
        })
        .await;
    assert_eq!(
        changed["fields"]["changed"],
        r#"["azure-tenant-id", "azure-api-client-id"]"#
    );
    let new = azure.token_for(new_tenant, new_client);
    assert_eq!(api.get("/api/tasks", Some(&new)).await, 200);
    assert_eq!(api.get("/api/tasks", Some(&old)).await, 401);
    assert_eq!(api.get("/ready", None).await, 200, "no gap in readiness");

    // A bad value in the vault: logged, and the current configuration stays.
    azure.vault.set_secret(CLIENT_SECRET, "not-a-guid");
    let failed = api
        .wait_for_message("Key Vault refresh failed; keeping the current configuration")
        .await;
    assert!(
        failed["fields"]["cause"]
            .as_str()
            .is_some_and(|c| c.contains("\"azure-api-client-id\" is not a GUID")),
        "{failed}"
    );
    assert_eq!(api.get("/api/tasks", Some(&new)).await, 200);

    drop(api.child.start_kill());
    api.exit_code().await;
    api.assert_never_logged(&[TENANT_ID, CLIENT_ID, new_tenant, new_client, &azure.token]);
}

#[test]
fn bad_key_vault_settings_exit_2_with_one_line() {
    let cases = [
        (
            vec![("AZURE_KEY_VAULT_URL", "https://evil.example/")],
            "AZURE_KEY_VAULT_URL=\"https://evil.example/\" is invalid",
        ),
        (
            vec![
                ("AZURE_KEY_VAULT_URL", "https://kv-tasks.vault.azure.net/"),
                ("AZURE_CREDENTIAL", "default"),
            ],
            "AZURE_CREDENTIAL",
        ),
        (
            vec![
                ("AZURE_KEY_VAULT_URL", "https://kv1.vault.azure.net/"),
                ("CONFIG_LOAD_TIMEOUT_SECS", "0"),
            ],
            "CONFIG_LOAD_TIMEOUT_SECS",
        ),
    ];
    for (vars, expected) in cases {
        crate::binary::assert_config_error(&vars, expected);
    }
}
