//! The authority's OpenID configuration (OpenID Connect Discovery 1.0): where to send the user to
//! sign in and out, where to redeem codes, and who issues the tokens. Read once per page load, as
//! MSAL.js does, so the SPA builds no endpoint URL itself and any standard authority works: Entra
//! ID in any cloud, Entra External ID, B2C with a policy in the path, dev-identity, or another
//! OpenID provider.

use gloo_net::http::Method;
use serde::Deserialize;

use super::{AuthError, Authority};
use crate::url::Endpoint;
use crate::{browser, codec};

/// The largest configuration document read (Entra's is about 2 KB).
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The fields of the document the SPA uses; the others are ignored.
#[derive(Deserialize)]
struct Document {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    /// Optional in the standard (RP-Initiated Logout): without it, signing out is local only.
    end_session_endpoint: Option<String>,
}

/// The authority's endpoints and issuer, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenIdConfiguration {
    pub issuer: Issuer,
    pub authorization_endpoint: Endpoint,
    pub token_endpoint: Endpoint,
    pub end_session_endpoint: Option<Endpoint>,
}

impl OpenIdConfiguration {
    /// Reads the document: every endpoint `https` (or `http` on loopback), as the configuration's
    /// own URLs must be.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err("the document is too large".into());
        }
        let document: Document = codec::from_str(text)?;
        let endpoint = |name: &str, url: &str| {
            Endpoint::parse(url).map_err(|error| format!("its {name} {error}"))
        };
        Ok(Self {
            issuer: Issuer::new(&document.issuer),
            authorization_endpoint: endpoint(
                "authorization_endpoint",
                &document.authorization_endpoint,
            )?,
            token_endpoint: endpoint("token_endpoint", &document.token_endpoint)?,
            end_session_endpoint: document
                .end_session_endpoint
                .map(|url| endpoint("end_session_endpoint", &url))
                .transpose()?,
        })
    }

    /// Fetches and reads the authority's configuration from the first of its
    /// [discovery URLs](Authority::discovery_urls) that has one. A place that answers 404, or not
    /// at all (a provider may answer a path it does not know without CORS headers, which the
    /// browser reports as no answer), is passed over for the next.
    pub async fn fetch(authority: &Authority) -> Result<Self, AuthError> {
        let mut failure = String::new();
        for url in authority.discovery_urls() {
            let request = browser::request(Method::GET, &url);
            match browser::send(request, None).await {
                Ok((200..=299, body)) => {
                    return Self::parse(&body)
                        .map_err(|reason| AuthError::Discovery(format!("{url}: {reason}")));
                }
                Ok((404, _)) => failure = format!("{url} answered HTTP 404"),
                Ok((status, _)) => {
                    return Err(AuthError::Discovery(format!(
                        "{url} answered HTTP {status}"
                    )));
                }
                Err(reason) => failure = format!("{url}: {reason}"),
            }
        }
        Err(AuthError::Discovery(failure))
    }
}

/// Who issues the tokens, as the configuration names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issuer {
    /// Entra's form, `{origin}/{tenant id}/v2.0` (Entra ID in any cloud, External ID,
    /// dev-identity): tokens name their tenant in `tid`, and `iss` is that tenant's issuer.
    /// `tenant` is `None` for an authority that admits any tenant (`common`, `organizations`),
    /// whose configuration says `{tenantid}`.
    Entra {
        origin: String,
        tenant: Option<String>,
    },
    /// Any other issuer (B2C, other OpenID providers): `iss` is exactly this.
    Other(String),
}

impl Issuer {
    pub fn new(issuer: &str) -> Self {
        let entra = issuer
            .strip_suffix("/v2.0")
            .and_then(|rest| rest.rsplit_once('/'))
            .filter(|(origin, _)| {
                origin
                    .split_once("://")
                    .is_some_and(|(_, host)| !host.is_empty() && !host.contains('/'))
            });
        match entra {
            Some((origin, "{tenantid}")) => Issuer::Entra {
                origin: origin.to_owned(),
                tenant: None,
            },
            Some((origin, tenant)) if shared::is_guid(tenant) => Issuer::Entra {
                origin: origin.to_owned(),
                tenant: Some(tenant.to_owned()),
            },
            _ => Issuer::Other(issuer.to_owned()),
        }
    }

    /// Whether a token with these `iss` and `tid` claims comes from this issuer.
    pub fn accepts(&self, iss: &str, tid: Option<&str>) -> bool {
        match self {
            Issuer::Entra { origin, tenant } => tid.is_some_and(|tid| {
                shared::is_guid(tid)
                    && tenant.as_deref().is_none_or(|tenant| tenant == tid)
                    && iss == format!("{origin}/{tid}/v2.0")
            }),
            Issuer::Other(issuer) => iss == issuer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const OTHER: &str = "0b4c4d2e-0000-4000-8000-000000000000";

    fn entra_document(tenant: &str) -> String {
        let base = format!("https://login.microsoftonline.com/{tenant}");
        serde_json::json!({
            "issuer": format!("{base}/v2.0"),
            "authorization_endpoint": format!("{base}/oauth2/v2.0/authorize"),
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "end_session_endpoint": format!("{base}/oauth2/v2.0/logout"),
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "response_types_supported": ["code", "id_token"],
        })
        .to_string()
    }

    #[test]
    fn entras_document() {
        let config = OpenIdConfiguration::parse(&entra_document(TENANT)).expect("valid");
        assert_eq!(
            config.token_endpoint.to_string(),
            format!("https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token")
        );
        assert!(config.end_session_endpoint.is_some());
        let entra = config.issuer;
        let iss = format!("https://login.microsoftonline.com/{TENANT}/v2.0");
        assert!(entra.accepts(&iss, Some(TENANT)));
        assert!(!entra.accepts(&iss, None), "tid is required");
        assert!(!entra.accepts(&iss, Some(OTHER)), "tid names the tenant");
        let other_iss = format!("https://login.microsoftonline.com/{OTHER}/v2.0");
        assert!(!entra.accepts(&other_iss, Some(OTHER)), "another tenant");
        assert!(!entra.accepts(&format!("https://sts.windows.net/{TENANT}/"), Some(TENANT)));
    }

    #[test]
    fn any_tenant_authority_accepts_the_issuer_of_the_users_tenant() {
        let any = Issuer::new("https://login.microsoftonline.com/{tenantid}/v2.0");
        let iss = |tenant: &str| format!("https://login.microsoftonline.com/{tenant}/v2.0");
        assert!(any.accepts(&iss(OTHER), Some(OTHER)));
        assert!(!any.accepts(&iss(OTHER), Some(TENANT)), "iss and tid agree");
        assert!(!any.accepts(&iss("{tenantid}"), Some("{tenantid}")));
        assert!(!any.accepts(&format!("https://evil.example/{OTHER}/v2.0"), Some(OTHER)));
    }

    #[test]
    fn other_issuers_are_compared_exactly_without_tid() {
        let b2c = format!("https://contoso.b2clogin.com/{TENANT}/v2.0/");
        let issuer = Issuer::new(&b2c);
        assert_eq!(issuer, Issuer::Other(b2c.clone()));
        assert!(issuer.accepts(&b2c, None));
        assert!(!issuer.accepts(b2c.trim_end_matches('/'), None));
        let generic = Issuer::new("https://accounts.example.com");
        assert!(generic.accepts("https://accounts.example.com", Some("anything")));
        assert!(!generic.accepts("https://accounts.example.com/", None));
    }

    #[test]
    fn endpoints_must_be_https_or_loopback() {
        let document = entra_document(TENANT).replace(
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token",
            "http://login.example.com/token",
        );
        let error = OpenIdConfiguration::parse(&document).expect_err("plain http");
        assert!(error.contains("token_endpoint"), "{error}");

        let local = serde_json::json!({
            "issuer": "http://127.0.0.1:8081/idp",
            "authorization_endpoint": "http://127.0.0.1:8081/idp/authorize?p=policy",
            "token_endpoint": "http://127.0.0.1:8081/idp/token",
        });
        let config = OpenIdConfiguration::parse(&local.to_string()).expect("valid");
        assert_eq!(config.end_session_endpoint, None);
        assert_eq!(
            config.issuer,
            Issuer::Other("http://127.0.0.1:8081/idp".into())
        );
    }

    #[test]
    fn a_document_without_an_endpoint_is_refused() {
        let error = OpenIdConfiguration::parse(r#"{"issuer":"https://a.example"}"#)
            .expect_err("no endpoints");
        assert!(error.contains("authorization_endpoint"), "{error}");
        assert!(OpenIdConfiguration::parse(&" ".repeat(MAX_DOCUMENT_BYTES + 1)).is_err());
    }
}
