//! The token endpoint: `authorization_code` (with the PKCE verifier) and `refresh_token` grants
//! for the two registered clients, both public (no secret).
//!
//! Like Entra, it tells them apart by their platform: the SPA redeems cross-origin only (the
//! request must carry an `Origin` header of its redirect URIs, and CORS answers those origins
//! only), the public (desktop) client never does. Codes are single-use and live a minute, and are
//! redeemed by the client they were issued to; refresh tokens are rotated, the used one dies. A
//! refresh can ask for the scopes its sign-in granted or fewer, never more (the API's permission
//! excepted: with no consent to ask, it is always granted).

use aws_lc_rs::digest;
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, CorsLayer};
use url::Url;

use crate::{
    error::Error,
    grants::RefreshGrant,
    jwt,
    params::{Form, required},
    scope::Scopes,
    secrets,
    settings::{Client, ClientKind},
    state::{AppState, CODE_LIFETIME_SECS, KnownTenant, Shared},
    store::Lookup,
};

const MIN_VERIFIER_CHARS: usize = 43;
const MAX_VERIFIER_CHARS: usize = 128;

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let spa = state.clone();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, _| {
            origin
                .to_str()
                .is_ok_and(|origin| spa.settings.is_spa_origin(origin))
        }))
        .allow_methods([Method::POST])
        .allow_headers(tower_http::cors::Any);
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .layer(cors)
}

#[derive(Debug, Deserialize)]
struct TokenParams {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<SecretString>,
    client_assertion: Option<SecretString>,
    code: Option<SecretString>,
    redirect_uri: Option<String>,
    code_verifier: Option<SecretString>,
    refresh_token: Option<SecretString>,
    scope: Option<String>,
    /// MSAL asks for `client_info=1`: the user's ids, for its account cache.
    client_info: Option<String>,
}

/// Entra's token response: the one place the tokens are exposed, borrowed from where they are
/// kept as secrets, to be written into the body at once.
#[derive(Serialize)]
struct TokenResponse<'a> {
    token_type: &'static str,
    scope: String,
    expires_in: u64,
    ext_expires_in: u64,
    access_token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_expires_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_info: Option<String>,
}

async fn token(
    _: KnownTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Form<TokenParams>, Error>,
) -> Result<Response, Error> {
    let Form(params) = params?;
    let grant_type = required(params.grant_type.clone(), "grant_type")?;
    let client = check_client(&state, &headers, &params)?;
    let Redeemed {
        user,
        scopes,
        granted,
        nonce,
        auth_time,
        refresh_expires_at,
    } = match grant_type.as_str() {
        "authorization_code" => redeem_code(&state, client, &params)?,
        "refresh_token" => redeem_refresh_token(&state, client, &params)?,
        _ => return Err(Error::UnsupportedGrantType(grant_type)),
    };
    let user = state
        .settings
        .users
        .find(&user)
        .ok_or(Error::GrantNotFound)?;
    let api = state.settings.api_client_id;
    let issued = jwt::issue(
        &state,
        &jwt::Subject {
            client_id: client.id,
            user,
            auth_time,
        },
        scopes,
        nonce.as_deref(),
    )?;
    let now = state.clock.now();
    let refresh_expires_at = client.refresh_token_expiry(now, refresh_expires_at);
    let refresh_token = scopes.refresh_token().then(|| {
        let token = SecretString::from(secrets::random_token());
        state.refresh_tokens.insert(
            token.expose_secret(),
            RefreshGrant {
                client_id: client.id,
                user: user.name().to_owned(),
                auth_time,
                scopes: granted,
                expires_at: refresh_expires_at,
            },
            refresh_expires_at,
        );
        token
    });
    let client_info =
        (params.client_info.as_deref() == Some("1")).then(|| jwt::client_info(&state, user));
    tracing::info!(user = user.name(), grant_type, "issued tokens");
    let body = TokenResponse {
        token_type: "Bearer",
        scope: scopes.granted(api),
        expires_in: issued.expires_in,
        ext_expires_in: issued.expires_in,
        access_token: issued.access_token.expose_secret(),
        refresh_token_expires_in: refresh_token
            .as_ref()
            .map(|_| refresh_expires_at.saturating_sub(now)),
        refresh_token: refresh_token.as_ref().map(ExposeSecret::expose_secret),
        id_token: issued.id_token.as_ref().map(ExposeSecret::expose_secret),
        client_info,
    };
    Ok((
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        Json(body),
    )
        .into_response())
}

/// A registered client, public (no secret). The SPA redeems from one of its origins; the public
/// (desktop) client is no browser page and sends no `Origin`.
fn check_client<'a>(
    state: &'a Shared,
    headers: &HeaderMap,
    params: &TokenParams,
) -> Result<&'a Client, Error> {
    let client_id = required(params.client_id.clone(), "client_id")?;
    let client = state
        .settings
        .client(&client_id)
        .ok_or(Error::UnknownClient(client_id))?;
    if params.client_secret.is_some() || params.client_assertion.is_some() {
        return Err(Error::SecretFromPublicClient);
    }
    let origin = headers
        .get(header::ORIGIN)
        .map(|origin| {
            origin
                .to_str()
                .map_err(|_| Error::Malformed("the Origin header is not ASCII".into()))
        })
        .transpose()?;
    let shown = |origin: &str| origin.chars().take(256).collect();
    match (client.kind, origin) {
        (ClientKind::Spa, None) => Err(Error::CrossOriginRequired),
        (ClientKind::Spa, Some(origin)) if !state.settings.is_spa_origin(origin) => {
            Err(Error::OriginNotRegistered(shown(origin)))
        }
        (ClientKind::Public, Some(origin)) => {
            Err(Error::CrossOriginFromPublicClient(shown(origin)))
        }
        (ClientKind::Spa, Some(_)) | (ClientKind::Public, None) => Ok(client),
    }
}

/// A grant the token endpoint accepted.
struct Redeemed {
    /// The test user's name.
    user: String,
    /// What this response issues.
    scopes: Scopes,
    /// What the sign-in granted: what a refresh token issued now stands for.
    granted: Scopes,
    nonce: Option<String>,
    auth_time: u64,
    /// When the redeemed refresh token expired (none for a code): a SPA's next one keeps it.
    refresh_expires_at: Option<u64>,
}

fn redeem_code(state: &Shared, client: &Client, params: &TokenParams) -> Result<Redeemed, Error> {
    let code = required(
        params.code.as_ref().map(ExposeSecret::expose_secret),
        "code",
    )?;
    let redirect_uri = required(params.redirect_uri.clone(), "redirect_uri")?;
    let verifier = required(
        params
            .code_verifier
            .as_ref()
            .map(ExposeSecret::expose_secret),
        "code_verifier",
    )?;
    let now = state.clock.now();
    // Taken, whatever happens next: a code is good for one attempt only.
    let grant = match state.codes.take(code, now) {
        Lookup::Found(grant) => grant,
        Lookup::Expired => return Err(Error::GrantExpired),
        Lookup::Missing if state.redeemed_codes.contains(code, now) => {
            return Err(Error::CodeAlreadyRedeemed);
        }
        Lookup::Missing => return Err(Error::GrantNotFound),
    };
    state
        .redeemed_codes
        .insert(code, (), now + CODE_LIFETIME_SECS);
    if grant.client_id != client.id {
        return Err(Error::GrantOfOtherClient);
    }
    // Compared parsed, as the authorization request's was: `http://localhost:8080` is
    // `http://localhost:8080/`.
    if Url::parse(&redirect_uri).ok().as_ref().map(Url::as_str) != Some(grant.redirect_uri.as_str())
    {
        return Err(Error::RedirectUriMismatch);
    }
    check_verifier(verifier, &grant.code_challenge)?;
    if let Some(scope) = &params.scope {
        Scopes::parse(scope, state.settings.api_client_id)?;
    }
    Ok(Redeemed {
        user: grant.user,
        scopes: grant.scopes,
        granted: grant.scopes,
        nonce: grant.nonce,
        auth_time: grant.auth_time,
        refresh_expires_at: None,
    })
}

/// RFC 7636: the verifier's SHA-256, base64url, must be the challenge the code was issued for.
fn check_verifier(verifier: &str, challenge: &str) -> Result<(), Error> {
    let well_formed = (MIN_VERIFIER_CHARS..=MAX_VERIFIER_CHARS).contains(&verifier.len())
        && verifier
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'));
    if !well_formed {
        return Err(Error::InvalidCodeVerifier);
    }
    let computed = URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, verifier.as_bytes()));
    if computed == challenge {
        Ok(())
    } else {
        Err(Error::CodeVerifierMismatch)
    }
}

/// A refresh may ask for the scopes its sign-in granted or fewer (no `scope`: all of them); asking
/// for more is `invalid_scope`. A refused request (bad scope included) leaves the refresh token
/// usable: bad input changes nothing, and Entra's refresh tokens survive a failed request too. Only
/// a refresh that issues tokens uses it up.
fn redeem_refresh_token(
    state: &Shared,
    client: &Client,
    params: &TokenParams,
) -> Result<Redeemed, Error> {
    let token = required(
        params
            .refresh_token
            .as_ref()
            .map(ExposeSecret::expose_secret),
        "refresh_token",
    )?;
    let api = state.settings.api_client_id;
    let requested = params
        .scope
        .as_deref()
        .map(|scope| Scopes::parse(scope, api))
        .transpose()?;
    let now = state.clock.now();
    let grant = match state.refresh_tokens.get(token, now) {
        Lookup::Found(grant) => grant,
        Lookup::Expired => return Err(Error::GrantExpired),
        Lookup::Missing => return Err(Error::GrantNotFound),
    };
    if grant.client_id != client.id {
        return Err(Error::GrantOfOtherClient);
    }
    let scopes = match requested {
        Some(requested) => grant.scopes.narrow(requested, api)?,
        None => grant.scopes,
    };
    // Checked, so now used up. A concurrent refresh with the same token may have taken it since
    // the lookup: then this one finds nothing, as if it had come second.
    if !matches!(state.refresh_tokens.take(token, now), Lookup::Found(_)) {
        return Err(Error::GrantNotFound);
    }
    Ok(Redeemed {
        user: grant.user,
        scopes,
        granted: grant.scopes,
        nonce: None,
        auth_time: grant.auth_time,
        refresh_expires_at: Some(grant.expires_at),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of RFC 7636, appendix B.
    #[test]
    fn the_rfc_7636_example_verifies() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_verifier(verifier, challenge).is_ok());
        assert!(matches!(
            check_verifier(&verifier.replace('d', "e"), challenge),
            Err(Error::CodeVerifierMismatch)
        ));
        assert!(matches!(
            check_verifier("short", challenge),
            Err(Error::InvalidCodeVerifier)
        ));
    }

    #[test]
    fn debug_of_the_parameters_hides_the_secrets() {
        let params: TokenParams = serde_urlencoded::from_str(
            "grant_type=authorization_code&client_id=c&code=code-s3cret&code_verifier=verifier-s3cret\
             &refresh_token=rt-s3cret&client_secret=cs-s3cret&client_assertion=ca-s3cret",
        )
        .expect("form");
        let shown = format!("{params:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("authorization_code"),
            "{shown}"
        );
        assert_eq!(
            required(
                params.code.as_ref().map(ExposeSecret::expose_secret),
                "code"
            )
            .ok(),
            Some("code-s3cret")
        );
    }
}
