//! The tokens' claims, shaped like Entra's: an access token for the API (v1 or v2 claims), an ID
//! token for the client (always v2, as the v2.0 endpoint issues), both RS256 JWTs signed by
//! [`crate::keys`].

use aws_lc_rs::digest;
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::SecretString;
use serde::Serialize;
use shared::Role;
use uuid::Uuid;

use crate::{
    config::TokenVersion,
    error::Error,
    scope::Scopes,
    secrets,
    state::{ID_TOKEN_LIFETIME_SECS, Shared},
    users::User,
};

/// Microsoft Graph's application id: the audience of a sign-in-only request's access token.
const GRAPH: Uuid = Uuid::from_u128(0x0000_0003_0000_0000_c000_0000_0000_0000);

/// Claims common to both versions of the access token.
#[derive(Debug, Serialize)]
struct AccessClaims<'a> {
    aud: String,
    iss: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    #[serde(flatten)]
    version: VersionClaims<'a>,
    name: &'a str,
    oid: Uuid,
    /// Absent, not empty, for a user without app roles: Entra omits the claim.
    #[serde(skip_serializing_if = "<[Role]>::is_empty")]
    roles: &'a [Role],
    scp: &'static str,
    sub: String,
    tid: Uuid,
    uti: String,
    ver: &'static str,
}

/// Where v1 and v2 access tokens differ: who the client is and how the user is named.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum VersionClaims<'a> {
    V1 {
        acr: &'static str,
        amr: [&'static str; 1],
        appid: Uuid,
        appidacr: &'static str,
        unique_name: &'a str,
        upn: &'a str,
    },
    V2 {
        azp: Uuid,
        azpacr: &'static str,
        preferred_username: &'a str,
    },
}

#[derive(Debug, Serialize)]
struct IdClaims<'a> {
    aud: Uuid,
    iss: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    /// When the user signed in: what a client's `max_age` is checked against.
    auth_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    oid: Uuid,
    preferred_username: &'a str,
    sub: String,
    tid: Uuid,
    uti: String,
    ver: &'static str,
}

/// Signed tokens for one user.
#[derive(Debug)]
pub(crate) struct Issued {
    pub(crate) access_token: SecretString,
    pub(crate) id_token: Option<SecretString>,
    pub(crate) expires_in: u64,
}

/// Who the tokens are for: a user, signed in to a client at `auth_time`.
#[derive(Debug)]
pub(crate) struct Subject<'a> {
    pub(crate) client_id: Uuid,
    pub(crate) user: &'a User,
    pub(crate) auth_time: u64,
}

/// Signs an access token (and an ID token when `openid` was granted) for `subject`. The access
/// token is the API's, in its configured version; for a sign-in only it is Graph's (v1, as
/// Graph's are), with no app roles.
pub(crate) fn issue(
    state: &Shared,
    subject: &Subject<'_>,
    scopes: Scopes,
    nonce: Option<&str>,
) -> Result<Issued, Error> {
    let Subject {
        client_id,
        user,
        auth_time,
    } = *subject;
    let settings = &state.settings;
    let now = state.clock.now();
    let expires_in = settings.access_token_lifetime_secs;
    let api = settings.api_client_id;
    let (resource, aud, version, roles, scp) = if scopes.api() {
        (
            api,
            match settings.access_token_version {
                TokenVersion::V1 => format!("api://{api}"),
                TokenVersion::V2 => api.to_string(),
            },
            settings.access_token_version,
            user.roles(),
            shared::API_SCOPE,
        )
    } else {
        (
            GRAPH,
            GRAPH.to_string(),
            TokenVersion::V1,
            &[][..],
            "User.Read",
        )
    };
    let (iss, version, ver) = match version {
        TokenVersion::V1 => (
            &state.urls.v1_issuer,
            VersionClaims::V1 {
                acr: "1",
                amr: ["pwd"],
                appid: client_id,
                appidacr: "0",
                unique_name: user.username(),
                upn: user.username(),
            },
            "1.0",
        ),
        TokenVersion::V2 => (
            &state.urls.v2_issuer,
            VersionClaims::V2 {
                azp: client_id,
                azpacr: "0",
                preferred_username: user.username(),
            },
            "2.0",
        ),
    };
    let access = AccessClaims {
        aud,
        iss,
        iat: now,
        nbf: now,
        exp: now + expires_in,
        version,
        name: user.display_name(),
        oid: user.oid(),
        roles,
        scp,
        sub: pairwise_subject(user.oid(), resource),
        tid: settings.tenant_id,
        uti: token_id(),
        ver,
    };
    let id_token = scopes
        .id_token()
        .then(|| {
            sign(
                state,
                &IdClaims {
                    aud: client_id,
                    iss: &state.urls.v2_issuer,
                    iat: now,
                    nbf: now,
                    exp: now + ID_TOKEN_LIFETIME_SECS,
                    auth_time,
                    email: scopes.email().then_some(user.username()),
                    name: user.display_name(),
                    nonce,
                    oid: user.oid(),
                    preferred_username: user.username(),
                    sub: pairwise_subject(user.oid(), client_id),
                    tid: settings.tenant_id,
                    uti: token_id(),
                    ver: "2.0",
                },
            )
        })
        .transpose()?;
    Ok(Issued {
        access_token: sign(state, &access)?,
        id_token,
        expires_in,
    })
}

/// `client_info`, which MSAL asks for with `client_info=1`: base64url JSON of the user's object id
/// and tenant, `{"uid", "utid"}`, from which it keys its account cache (`{uid}.{utid}`).
pub(crate) fn client_info(state: &Shared, user: &User) -> String {
    #[derive(Serialize)]
    struct ClientInfo {
        uid: Uuid,
        utid: Uuid,
    }
    let info = ClientInfo {
        uid: user.oid(),
        utid: state.settings.tenant_id,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&info).unwrap_or_default())
}

fn sign<T: Serialize>(state: &Shared, claims: &T) -> Result<SecretString, Error> {
    state
        .keys
        .sign(claims)
        .map(SecretString::from)
        .map_err(|err| {
            tracing::error!("cannot sign a token: {err}");
            Error::Signing
        })
}

/// Entra's `sub` is pairwise: the same user has a different `sub` for every application, which
/// is why an API must key its data on `oid`. Derived, not random, so it is stable across restarts.
fn pairwise_subject(oid: Uuid, app: Uuid) -> String {
    let mut input = Vec::with_capacity(32);
    input.extend_from_slice(oid.as_bytes());
    input.extend_from_slice(app.as_bytes());
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, &input))
}

/// A unique token id (`uti`), 22 base64url characters like Entra's.
fn token_id() -> String {
    URL_SAFE_NO_PAD.encode(secrets::random_uuid().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_differ_per_application_but_not_per_call() {
        let oid = Uuid::from_u128(1);
        let a = pairwise_subject(oid, Uuid::from_u128(2));
        assert_eq!(a, pairwise_subject(oid, Uuid::from_u128(2)));
        assert_ne!(a, pairwise_subject(oid, Uuid::from_u128(3)));
        assert_eq!(a.len(), 43);
    }

    #[test]
    fn debug_of_issued_tokens_hides_them() {
        let issued = Issued {
            access_token: "eyJ0eXAi.access.s3cret".into(),
            id_token: Some("eyJ0eXAi.id.s3cret".into()),
            expires_in: 3600,
        };
        let shown = format!("{issued:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("3600"),
            "{shown}"
        );
    }
}
