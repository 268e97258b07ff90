//! The app's identity in Azure and the HTTP transport of the Azure SDK, shared by everything that
//! calls Azure with that identity (Key Vault configuration; an Entra token for PostgreSQL).
//!
//! - [`credential`] picks the credential explicitly from [`AzureSettings`]: the Rust SDK has no
//!   `DefaultAzureCredential`, and guessing would hide a misconfigured identity behind a
//!   developer's `az login` (or the reverse).
//! - [`client_options`] carries the transport: the API's own reqwest client setup (rustls with
//!   aws-lc-rs, the platform's trust store, `SSL_CERT_FILE`, `HTTPS_PROXY`, bounded waits and
//!   bodies) rather than the SDK's default client. Every SDK client and credential must be built
//!   with these options: the SDK is compiled without its default HTTP client and panics when a
//!   client has no transport.

use std::{fmt, sync::Arc, time::Duration};

use azure_core::{
    credentials::TokenCredential,
    error::ErrorKind,
    http::{
        AsyncRawResponse, Body, ClientOptions, HttpClient, Request, RetryOptions, StatusCode,
        Transport, headers::Headers,
    },
};
use azure_identity::{
    DeveloperToolsCredential, ManagedIdentityCredential, ManagedIdentityCredentialOptions,
    UserAssignedId,
};

use crate::{
    outbound::{http_client, read_limited},
    vars::{ConfigError, Vars, invalid},
};

/// Largest response body accepted from an Azure service; a secret or a token is a few KiB.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Which identity the app presents to Azure services.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialKind {
    /// The managed identity of the Azure resource the app runs on (Container Apps, App Service,
    /// a VM): the system-assigned one, or the user-assigned one with this client id.
    ManagedIdentity { client_id: Option<String> },
    /// The developer's own sign-in: Azure CLI (`az login`), then Azure Developer CLI
    /// (`azd auth login`).
    DeveloperTools,
}

impl fmt::Display for CredentialKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialKind::ManagedIdentity { client_id: None } => {
                f.write_str("system-assigned managed identity")
            }
            CredentialKind::ManagedIdentity {
                client_id: Some(id),
            } => write!(f, "user-assigned managed identity {id}"),
            CredentialKind::DeveloperTools => f.write_str("developer tools (az login, azd)"),
        }
    }
}

/// How the app talks to Azure, parsed from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureSettings {
    pub credential: CredentialKind,
    /// Timeout of each HTTP request to Azure (identity endpoint, Key Vault, ...).
    pub http_timeout: Duration,
}

/// Each request to Azure (identity endpoint, Key Vault) gives up after this long.
const AZURE_HTTP_TIMEOUT: Duration = Duration::from_secs(10);

impl AzureSettings {
    /// `AZURE_CREDENTIAL`: `managed-identity`, `developer-tools`, or unset: the managed identity
    /// where Azure announces one (`IDENTITY_ENDPOINT`, set by Container Apps and App Service),
    /// else the developer's sign-in. `AZURE_MANAGED_IDENTITY_CLIENT_ID` picks a user-assigned
    /// identity.
    pub fn from_vars(vars: &Vars<'_>) -> Result<Self, ConfigError> {
        const NAME: &str = "AZURE_CREDENTIAL";
        const CLIENT_ID: &str = "AZURE_MANAGED_IDENTITY_CLIENT_ID";
        let client_id = vars.optional_guid(CLIENT_ID)?;
        let choice = vars.choice(NAME, &["managed-identity", "developer-tools"])?;
        let managed = match choice {
            Some(choice) => choice == "managed-identity",
            None => vars.get("IDENTITY_ENDPOINT").is_some(),
        };
        let credential = match (managed, client_id) {
            (true, client_id) => CredentialKind::ManagedIdentity { client_id },
            (false, None) => CredentialKind::DeveloperTools,
            (false, Some(id)) => {
                return Err(invalid(
                    CLIENT_ID,
                    &id,
                    if choice.is_some() {
                        "only used with AZURE_CREDENTIAL=managed-identity"
                    } else {
                        "only used with a managed identity: no IDENTITY_ENDPOINT here, so set AZURE_CREDENTIAL=managed-identity (e.g. on a VM)"
                    },
                ));
            }
        };
        Ok(Self {
            credential,
            http_timeout: AZURE_HTTP_TIMEOUT,
        })
    }
}

/// SDK client options with the API's transport and without the SDK's own retries: callers retry
/// with their own deadline and log each attempt's cause (a retrying pipeline would hide them).
pub fn client_options(settings: &AzureSettings) -> Result<ClientOptions, reqwest::Error> {
    let client = http_client(settings.http_timeout)?;
    Ok(ClientOptions {
        transport: Some(Transport::new(Arc::new(ReqwestTransport(client)))),
        retry: RetryOptions::none(),
        ..ClientOptions::default()
    })
}

/// The credential `settings` name, using `options` (from [`client_options`]) for its HTTP calls.
pub fn credential(
    settings: &AzureSettings,
    options: &ClientOptions,
) -> azure_core::Result<Arc<dyn TokenCredential>> {
    Ok(match &settings.credential {
        CredentialKind::ManagedIdentity { client_id } => {
            ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                client_options: options.clone(),
            }))?
        }
        // Runs `az`/`azd` as child processes: no HTTP of its own.
        CredentialKind::DeveloperTools => DeveloperToolsCredential::new(None)?,
    })
}

/// The SDK's [`HttpClient`] over the API's reqwest client. Responses are read whole, up to
/// [`MAX_RESPONSE_BYTES`].
#[derive(Debug)]
struct ReqwestTransport(reqwest::Client);

#[async_trait::async_trait]
impl HttpClient for ReqwestTransport {
    async fn execute_request(&self, request: &Request) -> azure_core::Result<AsyncRawResponse> {
        let body = match request.body() {
            Body::Bytes(bytes) => bytes.clone(),
            Body::SeekableStream(_) => {
                return Err(azure_core::Error::with_message(
                    ErrorKind::Other,
                    "streamed request bodies are not supported by this transport",
                ));
            }
        };
        let method = reqwest::Method::from_bytes(request.method().as_ref().as_bytes())
            .map_err(|e| azure_core::Error::with_error(ErrorKind::Other, e, "HTTP method"))?;
        let mut outgoing = self.0.request(method, request.url().clone()).body(body);
        for (name, value) in request.headers().iter() {
            outgoing = outgoing.header(name.as_str(), value.as_str());
        }
        let mut response = outgoing.send().await.map_err(send_error)?;
        let status = StatusCode::from(response.status().as_u16());
        let mut headers = Headers::new();
        for (name, value) in response.headers() {
            if let Ok(value) = value.to_str() {
                headers.insert(name.as_str().to_owned(), value.to_owned());
            }
        }
        let bytes = read_limited(&mut response, MAX_RESPONSE_BYTES)
            .await
            .map_err(send_error)?
            .ok_or_else(|| {
                azure_core::Error::with_message(
                    ErrorKind::Io,
                    format!("response larger than {MAX_RESPONSE_BYTES} bytes"),
                )
            })?;
        Ok(AsyncRawResponse::from_bytes(status, headers, bytes))
    }
}

/// Connection failures (DNS, TCP, TLS) are [`ErrorKind::Connection`], as the SDK's own transport
/// reports them; the message keeps reqwest's causes ("dns error", "invalid peer certificate") for
/// the operator.
fn send_error(err: reqwest::Error) -> azure_core::Error {
    let kind = if err.is_connect() {
        ErrorKind::Connection
    } else {
        ErrorKind::Io
    };
    let message = error_chain(&err);
    azure_core::Error::with_error(kind, err, message)
}

/// An error and its sources on one line, each distinct message once.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(err) = current {
        let text = err.to_string().replace(['\n', '\r'], " ");
        if !parts.iter().any(|seen| seen.contains(text.trim())) {
            parts.push(text.trim().to_owned());
        }
        current = err.source();
    }
    parts.join(": ")
}
