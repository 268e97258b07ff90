//! The tenant and API client ids from Azure Key Vault, read with the app's own Azure identity
//! (no secret in the environment), loaded after the server is up and refreshed while it runs.
//!
//! - [`run`]: load with retries until the deadline, install a verifier, then refresh
//!   periodically; returns only if the first load fails.
//! - [`KeyVault::read_ids`]: one read of both secrets, validated.
//! - [`Cause`]: why a read failed, in words an operator can act on.

use std::{convert::Infallible, fmt, sync::Arc, time::Duration};

use azure_core::{error::ErrorKind, http::StatusCode};
use azure_security_keyvault_secrets::{SecretClient, SecretClientOptions};
use reqwest::Url;
use tokio::time::Instant;

use secrecy::{ExposeSecret, SecretString};

use crate::{
    auth::{ApiIds, AuthSettings, Authenticator, ID_VARIABLES, TokenVerifier},
    azure::{self, AzureSettings, CredentialKind, error_chain},
    backoff::{Backoff, spread},
    validate,
    vars::{ConfigError, Vars, invalid},
};

/// The secrets deploy.sh seeds (names as in the original app).
pub const TENANT_ID_SECRET: &str = "azure-tenant-id";
pub const CLIENT_ID_SECRET: &str = "azure-api-client-id";

/// First retry after a failed load, doubling (with jitter) up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(10);
/// Longest operator-facing detail taken from an SDK error.
const MAX_DETAIL: usize = 400;

/// Where the configuration lives and how the app reaches it (`AZURE_KEY_VAULT_URL` and friends).
#[derive(Debug, Clone)]
pub struct KeyVaultSettings {
    /// `https://{vault}.vault.azure.net/`.
    pub url: Url,
    pub azure: AzureSettings,
    /// `CONFIG_LOAD_TIMEOUT_SECS`: how long start-up keeps retrying before the process exits.
    pub load_timeout: Duration,
    /// `KEY_VAULT_REFRESH_SECS`: how often the secrets are re-read; `None` never.
    pub refresh_interval: Option<Duration>,
    /// `AZURE_TENANT_ID` / `AZURE_API_CLIENT_ID` were set too; they are ignored.
    pub ignored_env: Vec<&'static str>,
}

impl KeyVaultSettings {
    /// `None` without `AZURE_KEY_VAULT_URL`; with it, the vault and the variables that only
    /// matter with it: the app's Azure identity (`crate::azure`), `CONFIG_LOAD_TIMEOUT_SECS`
    /// (default 60) and `KEY_VAULT_REFRESH_SECS` (default 300; 0 never re-reads).
    pub fn from_vars(vars: &Vars<'_>) -> Result<Option<Self>, ConfigError> {
        const NAME: &str = "AZURE_KEY_VAULT_URL";
        let Some(url) = vars.get(NAME) else {
            return Ok(None);
        };
        Ok(Some(Self {
            url: validate::key_vault_url(&url).map_err(|reason| invalid(NAME, &url, reason))?,
            azure: AzureSettings::from_vars(vars)?,
            load_timeout: vars.seconds("CONFIG_LOAD_TIMEOUT_SECS", 60, 1..=3600)?,
            refresh_interval: Some(vars.seconds("KEY_VAULT_REFRESH_SECS", 300, 0..=86_400)?)
                .filter(|interval| !interval.is_zero()),
            ignored_env: ID_VARIABLES
                .into_iter()
                .filter(|name| vars.get(name).is_some())
                .collect(),
        }))
    }
}

/// Why the ids could not be read, with what to do about it. Names secrets, never their values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Cause {
    #[error(
        "Key Vault answered 403 Forbidden: the app's identity may not read secrets; grant it the \"Key Vault Secrets User\" role on the vault (a new role assignment takes a few minutes to apply)"
    )]
    Forbidden,
    #[error(
        "Key Vault answered 403 Forbidden by its network rules: allow this app's network in the vault's firewall (or use a private endpoint)"
    )]
    Firewall,
    #[error(
        "Key Vault answered 401 Unauthorized to the identity's token: the vault may belong to another tenant than the identity"
    )]
    Unauthorized,
    #[error(
        "secret \"{0}\" is not in the vault (404): deploy.sh seeds it from backend/.env (./deploy.sh --from secrets)"
    )]
    SecretMissing(&'static str),
    #[error("secret \"{0}\" is empty: set it to a GUID (deploy.sh seeds it from backend/.env)")]
    SecretEmpty(&'static str),
    #[error(
        "secret \"{0}\" is not a GUID like 00000000-0000-0000-0000-000000000000 (deploy.sh seeds it from backend/.env)"
    )]
    SecretNotGuid(&'static str),
    #[error("secret \"{0}\": the vault's answer is not a secret")]
    NotASecret(&'static str),
    #[error(
        "the managed identity could not get a token: is a managed identity enabled on this Container App (and, with AZURE_MANAGED_IDENTITY_CLIENT_ID, that user-assigned identity attached to it)? ({0})"
    )]
    ManagedIdentity(String),
    #[error(
        "no developer sign-in: run `az login` (or `azd auth login`), or set AZURE_CREDENTIAL=managed-identity where a managed identity exists ({0})"
    )]
    DeveloperTools(String),
    #[error(
        "cannot reach the vault: check AZURE_KEY_VAULT_URL, DNS, network access and TLS trust ({0})"
    )]
    Unreachable(String),
    #[error("Key Vault is throttling or unavailable (HTTP {0})")]
    Unavailable(u16),
    #[error("no answer from Key Vault or the identity endpoint in time")]
    TimedOut,
    #[error("unexpected answer from Key Vault: {0}")]
    Unexpected(String),
}

impl Cause {
    /// What went wrong with `secret`, from the SDK's error. `credential` decides which identity
    /// hint applies.
    pub fn classify(
        err: &azure_core::Error,
        secret: &'static str,
        credential: &CredentialKind,
    ) -> Self {
        match err.kind() {
            ErrorKind::Credential => {
                let detail = detail(err);
                match credential {
                    CredentialKind::ManagedIdentity { .. } => Cause::ManagedIdentity(detail),
                    CredentialKind::DeveloperTools => Cause::DeveloperTools(detail),
                }
            }
            ErrorKind::HttpResponse { status, .. } => match *status {
                StatusCode::Forbidden if forbidden_by_network(err) => Cause::Firewall,
                StatusCode::Forbidden => Cause::Forbidden,
                StatusCode::Unauthorized => Cause::Unauthorized,
                StatusCode::NotFound => Cause::SecretMissing(secret),
                status if status == StatusCode::TooManyRequests || status.is_server_error() => {
                    Cause::Unavailable(u16::from(status))
                }
                status => Cause::Unexpected(format!("HTTP {}", u16::from(status))),
            },
            ErrorKind::Connection | ErrorKind::Io => Cause::Unreachable(detail(err)),
            // A body that did not parse: its text could hold a value, so it is not quoted.
            ErrorKind::DataConversion => Cause::NotASecret(secret),
            _ => Cause::Unexpected(detail(err)),
        }
    }
}

/// Key Vault's inner error code for a firewall refusal (`ForbiddenByFirewall`,
/// `ForbiddenByConnection`), as opposed to a missing role (`ForbiddenByRbac`) or access policy.
fn forbidden_by_network(err: &azure_core::Error) -> bool {
    let ErrorKind::HttpResponse {
        raw_response: Some(response),
        ..
    } = err.kind()
    else {
        return false;
    };
    let Ok(body) = serde_json::from_slice::<azure_core::error::ErrorResponse>(response.body())
    else {
        return false;
    };
    let inner = body
        .error
        .and_then(|e| e.inner_error)
        .and_then(|inner| inner.code)
        .unwrap_or_default();
    matches!(
        inner.as_str(),
        "ForbiddenByFirewall" | "ForbiddenByConnection"
    )
}

/// The SDK error's message and causes on one line, bounded.
fn detail(err: &azure_core::Error) -> String {
    let text = error_chain(err);
    match text.char_indices().nth(MAX_DETAIL) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// The start-up load gave up (`attempts` 0: the client could not even be set up).
#[derive(Debug, thiserror::Error)]
#[error(
    "configuration not loaded from Key Vault {vault}{}: {cause}",
    tried(*timeout_secs, *attempts)
)]
pub struct LoadError {
    pub vault: Url,
    pub timeout_secs: u64,
    pub attempts: u32,
    pub cause: Cause,
}

fn tried(timeout_secs: u64, attempts: u32) -> String {
    match attempts {
        0 => String::new(),
        1 => format!(" within {timeout_secs} s (1 attempt)"),
        n => format!(" within {timeout_secs} s ({n} attempts)"),
    }
}

/// The vault holding the configuration, with the client that reads it.
pub struct KeyVault {
    client: SecretClient,
    credential: CredentialKind,
    url: Url,
}

impl fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyVault")
            .field("url", &self.url.as_str())
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

impl KeyVault {
    /// A client for `settings.url` authenticating as `settings.azure.credential`. Nothing is sent
    /// yet.
    pub fn new(settings: &KeyVaultSettings) -> Result<Self, Cause> {
        let unexpected = |detail: String| Cause::Unexpected(detail);
        let options = azure::client_options(&settings.azure)
            .map_err(|e| unexpected(format!("HTTP client: {}", error_chain(&e))))?;
        let credential = azure::credential(&settings.azure, &options)
            .map_err(|e| Cause::classify(&e, TENANT_ID_SECRET, &settings.azure.credential))?;
        let options = SecretClientOptions {
            client_options: options,
            ..SecretClientOptions::default()
        };
        let client = SecretClient::new(settings.url.as_str(), credential, Some(options))
            .map_err(|e| unexpected(detail(&e)))?;
        Ok(Self {
            client,
            credential: settings.azure.credential.clone(),
            url: settings.url.clone(),
        })
    }

    /// Both secrets, read now and validated.
    pub async fn read_ids(&self) -> Result<ApiIds, Cause> {
        Ok(ApiIds {
            tenant_id: self.read_guid(TENANT_ID_SECRET).await?,
            client_id: self.read_guid(CLIENT_ID_SECRET).await?,
        })
    }

    async fn read_guid(&self, name: &'static str) -> Result<SecretString, Cause> {
        let classify = |err: azure_core::Error| Cause::classify(&err, name, &self.credential);
        let secret = self
            .client
            .get_secret(name, None)
            .await
            .map_err(classify)?
            .into_model()
            .map_err(classify)?;
        let value = SecretString::from(secret.value.unwrap_or_default());
        let value = value.expose_secret().trim();
        if value.is_empty() {
            return Err(Cause::SecretEmpty(name));
        }
        shared::normalize_guid(value)
            .map(SecretString::from)
            .ok_or(Cause::SecretNotGuid(name))
    }

    /// Reads until it works or `timeout` passes, waiting with backoff between attempts and
    /// logging each failure's cause. Gives up, with the last cause, when the next retry would
    /// start after the deadline; an attempt still running at the deadline is abandoned.
    pub async fn load(&self, timeout: Duration) -> Result<ApiIds, LoadError> {
        let deadline = Instant::now() + timeout;
        let mut backoff = Backoff::new(FIRST_RETRY, MAX_RETRY);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let cause = match tokio::time::timeout_at(deadline, self.read_ids()).await {
                Ok(Ok(ids)) => return Ok(ids),
                Ok(Err(cause)) => cause,
                Err(_) => Cause::TimedOut,
            };
            let wait = backoff.next_delay();
            let retry_at = Instant::now() + wait;
            if retry_at >= deadline {
                return Err(LoadError {
                    vault: self.url.clone(),
                    timeout_secs: timeout.as_secs(),
                    attempts,
                    cause,
                });
            }
            tracing::warn!(
                attempt = attempts,
                retry_in_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                cause = %cause,
                "configuration not loaded from Key Vault yet"
            );
            tokio::time::sleep_until(retry_at).await;
        }
    }
}

/// Key Vault mode after the server is up: load the ids (retrying until
/// `settings.load_timeout`), install a verifier for them, then keep them current. Returns only
/// when the first load fails: the process should then exit with that error.
pub async fn run(
    settings: &KeyVaultSettings,
    auth: &AuthSettings,
    authenticator: &Authenticator,
) -> Result<Infallible, LoadError> {
    if !settings.ignored_env.is_empty() {
        tracing::warn!(
            variables = ?settings.ignored_env,
            "ignored: AZURE_KEY_VAULT_URL is set, so the tenant and API client ids come from Key Vault"
        );
    }
    tracing::info!(vault = %settings.url, credential = %settings.azure.credential, "loading configuration from Key Vault");
    let give_up = |cause| LoadError {
        vault: settings.url.clone(),
        timeout_secs: settings.load_timeout.as_secs(),
        attempts: 0,
        cause,
    };
    let vault = KeyVault::new(settings).map_err(give_up)?;
    let mut ids = vault.load(settings.load_timeout).await?;
    let verifier = TokenVerifier::start(ids.clone(), auth.clone())
        .map_err(|e| give_up(Cause::Unexpected(format!("HTTP client: {e}"))))?;
    authenticator.install(verifier);
    tracing::info!(
        secrets = ?[TENANT_ID_SECRET, CLIENT_ID_SECRET],
        "configuration loaded from Key Vault"
    );
    let Some(interval) = settings.refresh_interval else {
        return std::future::pending().await;
    };
    loop {
        tokio::time::sleep(spread(interval)).await;
        let read = tokio::time::timeout(settings.load_timeout, vault.read_ids()).await;
        let fresh = match read.unwrap_or(Err(Cause::TimedOut)) {
            Ok(fresh) => fresh,
            Err(cause) => {
                tracing::warn!(cause = %cause, "Key Vault refresh failed; keeping the current configuration");
                continue;
            }
        };
        let changed = changed_secrets(&ids, &fresh);
        if changed.is_empty() {
            tracing::debug!("Key Vault configuration unchanged");
            continue;
        }
        match activate(&fresh, auth, settings.load_timeout).await {
            Ok(verifier) => {
                authenticator.install(verifier);
                tracing::info!(changed = ?changed, "configuration changed in Key Vault: tokens are now checked against the new values");
                ids = fresh;
            }
            Err(reason) => tracing::error!(
                changed = ?changed,
                reason,
                "configuration changed in Key Vault but was not applied; keeping the current one"
            ),
        }
    }
}

/// A verifier for `ids` whose signing keys have loaded, so swapping it in never leaves a gap
/// where tokens are refused.
async fn activate(
    ids: &ApiIds,
    auth: &AuthSettings,
    timeout: Duration,
) -> Result<Arc<TokenVerifier>, &'static str> {
    let verifier = TokenVerifier::start(ids.clone(), auth.clone())
        .map_err(|_| "cannot build the discovery HTTP client")?;
    let ready = async {
        while !verifier.is_ready() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    tokio::time::timeout(timeout, ready)
        .await
        .map_err(|_| "the new tenant's signing keys could not be loaded")?;
    Ok(verifier)
}

/// Names of the secrets whose values differ (never the values).
fn changed_secrets(old: &ApiIds, new: &ApiIds) -> Vec<&'static str> {
    [
        (TENANT_ID_SECRET, &old.tenant_id, &new.tenant_id),
        (CLIENT_ID_SECRET, &old.client_id, &new.client_id),
    ]
    .into_iter()
    .filter_map(|(name, old, new)| (old.expose_secret() != new.expose_secret()).then_some(name))
    .collect()
}

#[cfg(test)]
mod tests {
    use azure_core::http::{RawResponse, headers::Headers};

    use super::*;

    const MI: CredentialKind = CredentialKind::ManagedIdentity { client_id: None };

    fn http_error(status: StatusCode, body: &str) -> azure_core::Error {
        let response = RawResponse::from_bytes(status, Headers::new(), body.as_bytes().to_vec());
        azure_core::Error::new(
            ErrorKind::HttpResponse {
                status,
                error_code: None,
                raw_response: Some(Box::new(response)),
            },
            "refused",
        )
    }

    fn classify(err: &azure_core::Error) -> Cause {
        Cause::classify(err, CLIENT_ID_SECRET, &MI)
    }

    #[test]
    fn statuses_map_to_operator_hints() {
        let rbac = r#"{"error":{"code":"Forbidden","message":"Caller is not authorized","innererror":{"code":"ForbiddenByRbac"}}}"#;
        let firewall = r#"{"error":{"code":"Forbidden","message":"Client address is not authorized","innererror":{"code":"ForbiddenByFirewall"}}}"#;
        let cases = [
            (StatusCode::Forbidden, rbac, Cause::Forbidden),
            (StatusCode::Forbidden, "", Cause::Forbidden),
            (StatusCode::Forbidden, firewall, Cause::Firewall),
            (StatusCode::Unauthorized, "", Cause::Unauthorized),
            (
                StatusCode::NotFound,
                r#"{"error":{"code":"SecretNotFound"}}"#,
                Cause::SecretMissing(CLIENT_ID_SECRET),
            ),
            (StatusCode::TooManyRequests, "", Cause::Unavailable(429)),
            (StatusCode::ServiceUnavailable, "", Cause::Unavailable(503)),
            (
                StatusCode::BadRequest,
                "",
                Cause::Unexpected("HTTP 400".into()),
            ),
        ];
        for (status, body, expected) in cases {
            assert_eq!(classify(&http_error(status, body)), expected, "{status:?}");
        }
    }

    #[test]
    fn hints_name_the_fix() {
        let forbidden = Cause::Forbidden.to_string();
        assert!(
            forbidden.contains("\"Key Vault Secrets User\" role"),
            "{forbidden}"
        );
        let missing = Cause::SecretMissing(TENANT_ID_SECRET).to_string();
        assert!(
            missing.contains("\"azure-tenant-id\"") && missing.contains("deploy.sh"),
            "{missing}"
        );
    }

    #[test]
    fn identity_errors_get_the_hint_of_the_credential_in_use() {
        let err = azure_core::Error::with_message(
            ErrorKind::Credential,
            "ManagedIdentityCredential authentication failed.\nconnection refused",
        );
        let Cause::ManagedIdentity(detail) = classify(&err) else {
            panic!("expected a managed identity cause");
        };
        assert!(
            !detail.contains('\n') && detail.contains("connection refused"),
            "{detail}"
        );
        assert!(
            Cause::ManagedIdentity(detail)
                .to_string()
                .contains("managed identity enabled")
        );
        let dev = Cause::classify(&err, CLIENT_ID_SECRET, &CredentialKind::DeveloperTools);
        assert!(dev.to_string().contains("az login"), "{dev}");
    }

    #[test]
    fn network_failures_point_at_the_vault_url() {
        for kind in [ErrorKind::Connection, ErrorKind::Io] {
            let err = azure_core::Error::with_message(kind, "dns error: no such host");
            let cause = classify(&err);
            assert!(matches!(cause, Cause::Unreachable(_)), "{cause:?}");
            assert!(cause.to_string().contains("AZURE_KEY_VAULT_URL"), "{cause}");
            assert!(cause.to_string().contains("dns error"), "{cause}");
        }
    }

    #[test]
    fn unparsable_answers_are_not_quoted() {
        let err = azure_core::Error::with_message(
            ErrorKind::DataConversion,
            "invalid type: string \"s3cr3t\"",
        );
        let cause = classify(&err);
        assert_eq!(cause, Cause::NotASecret(CLIENT_ID_SECRET));
        assert!(!cause.to_string().contains("s3cr3t"));
    }

    #[test]
    fn details_are_bounded() {
        let err = azure_core::Error::with_message(ErrorKind::Other, "x".repeat(5000));
        let Cause::Unexpected(detail) = classify(&err) else {
            panic!("expected unexpected");
        };
        assert!(detail.chars().count() <= MAX_DETAIL + 1, "{}", detail.len());
    }

    #[test]
    fn the_final_message_says_how_long_it_tried() {
        let error = |attempts| LoadError {
            vault: Url::parse("https://kv-tasks.vault.azure.net/").expect("url"),
            timeout_secs: 60,
            attempts,
            cause: Cause::Forbidden,
        };
        let tried = error(7).to_string();
        assert!(
            tried.starts_with("configuration not loaded from Key Vault https://kv-tasks.vault.azure.net/ within 60 s (7 attempts): Key Vault answered 403"),
            "{tried}"
        );
        let setup = error(0).to_string();
        assert!(
            setup.contains("vault.azure.net/: Key Vault answered 403"),
            "{setup}"
        );
    }

    #[test]
    fn changes_are_named_by_secret() {
        let old = ApiIds {
            tenant_id: "a".into(),
            client_id: "b".into(),
        };
        let tenant_moved = ApiIds {
            tenant_id: "c".into(),
            ..old.clone()
        };
        assert_eq!(changed_secrets(&old, &tenant_moved), [TENANT_ID_SECRET]);
        let both = ApiIds {
            tenant_id: "c".into(),
            client_id: "d".into(),
        };
        assert_eq!(
            changed_secrets(&old, &both),
            [TENANT_ID_SECRET, CLIENT_ID_SECRET]
        );
    }
}
