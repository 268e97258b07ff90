//! The token endpoint: `authorization_code` (with the PKCE verifier) and `refresh_token` grants for
//! the SPA, a public client.
//!
//! Like Entra for single-page apps, it only redeems cross-origin: the request must carry an
//! `Origin` header, and CORS answers only the origins of the registered redirect URIs. Codes are
//! single-use and live a minute; refresh tokens are rotated, the used one dies. A refresh can ask
//! for the scopes its sign-in granted or fewer, never more.

use aws_lc_rs::digest;
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, HeaderValue, Method, header},
    response::{IntoResponse, Response},
    routing::post,
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};
use tower_http::cors::{AllowOrigin, CorsLayer};
use uuid::Uuid;

use crate::{
    error::Error,
    grants::RefreshGrant,
    jwt,
    params::{Form, required},
    scope::Scopes,
    secrets,
    state::{AppState, CODE_LIFETIME_SECS, KnownTenant, REFRESH_TOKEN_LIFETIME_SECS, Shared},
    store::Lookup,
    users::User,
};

const MIN_VERIFIER_CHARS: usize = 43;
const MAX_VERIFIER_CHARS: usize = 128;

pub(crate) fn routes(state: &AppState) -> Router<AppState> {
    let origins: Vec<HeaderValue> = state
        .settings
        .redirect_uris
        .iter()
        .filter_map(|uri| HeaderValue::from_str(&uri.origin()).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
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
    client_secret: Option<String>,
    client_assertion: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    refresh_token: Option<String>,
    scope: Option<String>,
    /// MSAL asks for `client_info=1`: the user's ids, for its account cache.
    client_info: Option<String>,
}

/// Entra's token response.
#[derive(Debug, Serialize)]
struct TokenResponse {
    token_type: &'static str,
    scope: String,
    expires_in: u64,
    ext_expires_in: u64,
    access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token_expires_in: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_info: Option<String>,
}

#[derive(Serialize)]
struct ClientInfo {
    uid: Uuid,
    utid: Uuid,
}

async fn token(
    _: KnownTenant,
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Form<TokenParams>, Error>,
) -> Result<Response, Error> {
    let Form(params) = params?;
    let grant_type = required(params.grant_type.clone(), "grant_type")?;
    check_client(&state, &headers, &params)?;
    let Redeemed {
        user,
        scopes,
        granted,
        nonce,
    } = match grant_type.as_str() {
        "authorization_code" => redeem_code(&state, &params)?,
        "refresh_token" => redeem_refresh_token(&state, &params)?,
        _ => return Err(Error::UnsupportedGrantType(grant_type)),
    };
    let api = state.settings.api_client_id;
    let issued = jwt::issue(&state, user, scopes, nonce.as_deref())?;
    let refresh_token = scopes.refresh_token().then(|| {
        let token = secrets::random_token();
        state.refresh_tokens.insert(
            token.clone(),
            RefreshGrant {
                user: user.name().to_owned(),
                scopes: granted,
            },
            state.clock.now() + REFRESH_TOKEN_LIFETIME_SECS,
        );
        token
    });
    let client_info = (params.client_info.as_deref() == Some("1")).then(|| {
        let info = ClientInfo {
            uid: user.oid(),
            utid: state.settings.tenant_id,
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&info).unwrap_or_default())
    });
    tracing::info!(user = user.name(), grant_type, "issued tokens");
    let body = TokenResponse {
        token_type: "Bearer",
        scope: scopes.granted(api),
        expires_in: issued.expires_in,
        ext_expires_in: issued.expires_in,
        access_token: issued.access_token,
        refresh_token_expires_in: refresh_token.as_ref().map(|_| REFRESH_TOKEN_LIFETIME_SECS),
        refresh_token,
        id_token: issued.id_token,
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

/// The SPA is the only client; it is public (no secret) and redeems from a registered origin.
fn check_client(state: &Shared, headers: &HeaderMap, params: &TokenParams) -> Result<(), Error> {
    let client_id = required(params.client_id.clone(), "client_id")?;
    if client_id.parse().ok() != Some(state.settings.spa_client_id) {
        return Err(Error::UnknownClient(client_id));
    }
    if params.client_secret.is_some() || params.client_assertion.is_some() {
        return Err(Error::SecretFromPublicClient);
    }
    let origin = headers
        .get(header::ORIGIN)
        .ok_or(Error::CrossOriginRequired)?
        .to_str()
        .map_err(|_| Error::Malformed("the Origin header is not ASCII".into()))?;
    if !state.settings.is_registered_origin(origin) {
        return Err(Error::OriginNotRegistered(
            origin.chars().take(256).collect(),
        ));
    }
    Ok(())
}

/// A grant the token endpoint accepted.
struct Redeemed<'a> {
    user: &'a User,
    /// What this response issues.
    scopes: Scopes,
    /// What the sign-in granted: what a refresh token issued now stands for.
    granted: Scopes,
    nonce: Option<String>,
}

fn redeem_code<'a>(state: &'a Shared, params: &TokenParams) -> Result<Redeemed<'a>, Error> {
    let code = required(params.code.clone(), "code")?;
    let redirect_uri = required(params.redirect_uri.clone(), "redirect_uri")?;
    let verifier = required(params.code_verifier.clone(), "code_verifier")?;
    let now = state.clock.now();
    // Taken, whatever happens next: a code is good for one attempt only.
    let grant = match state.codes.take(&code, now) {
        Lookup::Found(grant) => grant,
        Lookup::Expired => return Err(Error::GrantExpired),
        Lookup::Missing if state.redeemed_codes.contains(&code, now) => {
            return Err(Error::CodeAlreadyRedeemed);
        }
        Lookup::Missing => return Err(Error::GrantNotFound),
    };
    state
        .redeemed_codes
        .insert(code, (), now + CODE_LIFETIME_SECS);
    if redirect_uri != grant.redirect_uri {
        return Err(Error::RedirectUriMismatch);
    }
    check_verifier(&verifier, &grant.code_challenge)?;
    if let Some(scope) = &params.scope {
        Scopes::parse(scope, state.settings.api_client_id)?;
    }
    let user = state
        .settings
        .users
        .find(&grant.user)
        .ok_or(Error::GrantNotFound)?;
    Ok(Redeemed {
        user,
        scopes: grant.scopes,
        granted: grant.scopes,
        nonce: grant.nonce,
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
fn redeem_refresh_token<'a>(
    state: &'a Shared,
    params: &TokenParams,
) -> Result<Redeemed<'a>, Error> {
    let token = required(params.refresh_token.clone(), "refresh_token")?;
    let api = state.settings.api_client_id;
    let requested = params
        .scope
        .as_deref()
        .map(|scope| Scopes::parse(scope, api))
        .transpose()?;
    let now = state.clock.now();
    let grant = match state.refresh_tokens.get(&token, now) {
        Lookup::Found(grant) => grant,
        Lookup::Expired => return Err(Error::GrantExpired),
        Lookup::Missing => return Err(Error::GrantNotFound),
    };
    let scopes = match requested {
        Some(requested) => grant.scopes.narrow(requested, api)?,
        None => grant.scopes,
    };
    // Checked, so now used up. A concurrent refresh with the same token may have taken it since
    // the lookup: then this one finds nothing, as if it had come second.
    if !matches!(state.refresh_tokens.take(&token, now), Lookup::Found(_)) {
        return Err(Error::GrantNotFound);
    }
    let user = state
        .settings
        .users
        .find(&grant.user)
        .ok_or(Error::GrantNotFound)?;
    Ok(Redeemed {
        user,
        scopes,
        granted: grant.scopes,
        nonce: None,
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
}
