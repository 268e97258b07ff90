//! The checks on the ID token, and the account it describes.
//!
//! Like MSAL.js, the SPA does not verify the token's signature: it received the token directly from
//! the authority's token endpoint over TLS, in exchange for a code only it could redeem (PKCE). What
//! it does check is that the token was minted for this app (`aud`), for this sign-in (`nonce`), by
//! the configured authority (`iss`, and `tid` where the issuer is Entra's), and is not expired
//! (`exp`). The access token is not
//! read at all: it is for the API, which validates it properly.

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::base64url;
use super::discovery::Issuer;
use crate::codec;

/// The longest ID token accepted.
const MAX_TOKEN_BYTES: usize = 32 * 1024;

/// Tolerated clock difference between this browser and the authority, as MSAL allows.
pub const CLOCK_SKEW_SECS: u64 = 5 * 60;

/// The signed-in user, as the ID token names them. Roles are not here: they are the API's to say
/// (`/api/me`), since they are claims of the access token, which the SPA never reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Display name (`name`).
    pub name: String,
    /// Sign-in name (`preferred_username`), usually an e-mail address.
    pub username: String,
    /// The user's object id (`oid`, else `sub`): a renewed ID token must name the same user.
    pub id: String,
    /// The user's tenant (`tid`), from Entra's issuers.
    pub tenant_id: Option<String>,
}

/// Why an ID token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdTokenError {
    #[error("it is not a well-formed token")]
    Malformed,
    #[error("it was issued to another application")]
    Audience,
    #[error("it was not issued by the configured authority")]
    Issuer,
    #[error("it belongs to another sign-in (nonce mismatch)")]
    Nonce,
    #[error("it has expired (check this device's clock)")]
    Expired,
    #[error("it names a different user than this session")]
    OtherUser,
}

/// What the token must match.
#[derive(Debug, Clone, Copy)]
pub struct Expected<'a> {
    pub client_id: &'a str,
    /// The issuer the authority's OpenID configuration names.
    pub issuer: &'a Issuer,
    /// The nonce of the sign-in request; `None` for a token renewed with a refresh token, which
    /// carries no nonce but must then name `same_user`.
    pub nonce: Option<&'a str>,
    /// The account of the current session, for renewals.
    pub same_user: Option<&'a Account>,
    /// Seconds since the Unix epoch.
    pub now: u64,
}

/// The claims read; the others are ignored.
#[derive(Deserialize)]
struct Claims {
    aud: Audience,
    azp: Option<String>,
    iss: String,
    exp: u64,
    tid: Option<String>,
    nonce: Option<String>,
    oid: Option<String>,
    sub: String,
    name: Option<String>,
    preferred_username: Option<String>,
}

/// `aud`: one audience, or a list (JWT allows both).
struct Audience(Vec<String>);

/// A string or a list of strings; anything else is refused.
impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OneOrMany;

        impl<'de> Visitor<'de> for OneOrMany {
            type Value = Audience;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or a list of strings")
            }

            fn visit_str<E: de::Error>(self, aud: &str) -> Result<Audience, E> {
                Ok(Audience(vec![aud.to_owned()]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience, A::Error> {
                let mut auds = Vec::new();
                while let Some(aud) = seq.next_element()? {
                    auds.push(aud);
                }
                Ok(Audience(auds))
            }
        }

        deserializer.deserialize_any(OneOrMany)
    }
}

/// Checks `id_token` (a compact JWT) and returns the account it names.
pub fn check(id_token: &str, expected: Expected<'_>) -> Result<Account, IdTokenError> {
    check_payload(&payload(id_token)?, expected)
}

/// Checks the claims of a token's payload, JSON text (split from [`check`] so that its rules are
/// tested natively; the payload's decoding needs the browser).
fn check_payload(payload: &str, expected: Expected<'_>) -> Result<Account, IdTokenError> {
    let claims: Claims = codec::from_str(payload).map_err(|_| IdTokenError::Malformed)?;

    // OpenID Connect Core §3.1.3.7: the client must be an audience, and the authorized party when
    // there are several.
    let is_client = |value: &str| value.eq_ignore_ascii_case(expected.client_id);
    let Audience(auds) = &claims.aud;
    let for_us = auds.iter().any(|aud| is_client(aud))
        && (auds.len() == 1 || claims.azp.as_deref().is_some_and(is_client));
    if !for_us {
        return Err(IdTokenError::Audience);
    }
    if !expected.issuer.accepts(&claims.iss, claims.tid.as_deref()) {
        return Err(IdTokenError::Issuer);
    }
    if claims.exp.saturating_add(CLOCK_SKEW_SECS) <= expected.now {
        return Err(IdTokenError::Expired);
    }
    if let Some(nonce) = expected.nonce
        && claims.nonce.as_deref() != Some(nonce)
    {
        return Err(IdTokenError::Nonce);
    }

    let username = claims.preferred_username.unwrap_or_default();
    let account = Account {
        name: claims.name.unwrap_or_else(|| username.clone()),
        username,
        id: claims.oid.unwrap_or(claims.sub),
        tenant_id: claims.tid,
    };
    if let Some(current) = expected.same_user
        && (current.id != account.id || current.tenant_id != account.tenant_id)
    {
        return Err(IdTokenError::OtherUser);
    }
    Ok(account)
}

/// The payload of `id_token`, a compact JWT, as text.
fn payload(id_token: &str) -> Result<String, IdTokenError> {
    if id_token.len() > MAX_TOKEN_BYTES {
        return Err(IdTokenError::Malformed);
    }
    let mut parts = id_token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed);
    };
    base64url::decode(payload)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(IdTokenError::Malformed)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    pub(super) const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    pub(super) const CLIENT: &str = "11111111-2222-3333-4444-555555555555";
    pub(super) const NOW: u64 = 1_700_000_000;

    pub(super) fn claims() -> Value {
        json!({
            "aud": CLIENT,
            "iss": format!("https://login.microsoftonline.com/{TENANT}/v2.0"),
            "iat": NOW - 60, "nbf": NOW - 60, "exp": NOW + 3600,
            "tid": TENANT, "oid": "user-oid", "sub": "pairwise-sub",
            "nonce": "the-nonce",
            "name": "Test Editor", "preferred_username": "editor@contoso.com",
        })
    }

    fn check_with(claims: &Value, issuer: &str) -> Result<Account, IdTokenError> {
        check_payload(
            &claims.to_string(),
            Expected {
                client_id: CLIENT,
                issuer: &Issuer::new(issuer),
                nonce: Some("the-nonce"),
                same_user: None,
                now: NOW,
            },
        )
    }

    fn with(key: &str, value: Value) -> Value {
        let mut claims = claims();
        claims[key] = value;
        claims
    }

    /// The issuer in the OpenID configuration of Entra's authority for [`TENANT`].
    const ENTRA: &str =
        "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0";

    #[test]
    fn valid_token_names_the_account() {
        let account = check_with(&claims(), ENTRA).expect("valid");
        assert_eq!(
            account,
            Account {
                name: "Test Editor".into(),
                username: "editor@contoso.com".into(),
                id: "user-oid".into(),
                tenant_id: Some(TENANT.into()),
            }
        );
    }

    #[test]
    fn multi_tenant_authority_accepts_the_issuer_of_the_users_tenant() {
        let other = "0b4c4d2e-0000-4000-8000-000000000000";
        let claims = with("tid", json!(other));
        let claims = {
            let mut c = claims;
            c["iss"] = json!(format!("https://login.microsoftonline.com/{other}/v2.0"));
            c
        };
        let organizations = "https://login.microsoftonline.com/{tenantid}/v2.0";
        assert!(check_with(&claims, organizations).is_ok());
        assert_eq!(check_with(&claims, ENTRA), Err(IdTokenError::Issuer));
    }

    #[test]
    fn local_authority_issuer() {
        let issuer = format!("http://127.0.0.1:8081/{TENANT}/v2.0");
        let local = with("iss", json!(issuer));
        assert!(check_with(&local, &issuer).is_ok());
        assert_eq!(check_with(&local, ENTRA), Err(IdTokenError::Issuer));
    }

    /// Outside Entra (B2C, other OpenID providers) `tid` is neither needed nor checked.
    #[test]
    fn other_issuers_need_no_tenant() {
        let issuer = "https://contoso.b2clogin.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0/";
        let mut b2c = with("iss", json!(issuer));
        b2c.as_object_mut().expect("object").remove("tid");
        let account = check_with(&b2c, issuer).expect("valid");
        assert_eq!(account.tenant_id, None);
        assert_eq!(check_with(&b2c, ENTRA), Err(IdTokenError::Issuer));
        let mut entra_without_tid = claims();
        entra_without_tid
            .as_object_mut()
            .expect("object")
            .remove("tid");
        assert_eq!(
            check_with(&entra_without_tid, ENTRA),
            Err(IdTokenError::Issuer)
        );
    }

    #[test]
    fn each_claim_is_checked() {
        let cases = [
            (
                with("aud", json!("api://someone-else")),
                IdTokenError::Audience,
            ),
            (
                with("aud", json!([CLIENT, "other"])),
                IdTokenError::Audience,
            ),
            (
                with("iss", json!(format!("https://sts.windows.net/{TENANT}/"))),
                IdTokenError::Issuer,
            ),
            (
                with("iss", json!(format!("https://evil.example/{TENANT}/v2.0"))),
                IdTokenError::Issuer,
            ),
            (with("nonce", json!("another")), IdTokenError::Nonce),
            (
                with("exp", json!(NOW - CLOCK_SKEW_SECS)),
                IdTokenError::Expired,
            ),
            (with("exp", json!("tomorrow")), IdTokenError::Malformed),
            (with("aud", json!(42)), IdTokenError::Malformed),
            (with("aud", json!([])), IdTokenError::Audience),
        ];
        for (claims, expected) in cases {
            assert_eq!(check_with(&claims, ENTRA), Err(expected), "{claims}");
        }
        let mut no_nonce = claims();
        no_nonce.as_object_mut().expect("object").remove("nonce");
        assert_eq!(check_with(&no_nonce, ENTRA), Err(IdTokenError::Nonce));
    }

    #[test]
    fn audience_list_needs_us_as_authorized_party() {
        let mut claims = with("aud", json!([CLIENT, "other"]));
        claims["azp"] = json!(CLIENT);
        assert!(check_with(&claims, ENTRA).is_ok());
        assert!(check_with(&with("aud", json!([CLIENT])), ENTRA).is_ok());
    }

    #[test]
    fn within_clock_skew_is_accepted() {
        assert!(check_with(&with("exp", json!(NOW - CLOCK_SKEW_SECS + 1)), ENTRA).is_ok());
    }

    #[test]
    fn renewal_must_name_the_same_user() {
        let issuer = Issuer::new(ENTRA);
        let current = check_with(&claims(), ENTRA).expect("valid");
        let renewed = |claims: &Value| {
            check_payload(
                &claims.to_string(),
                Expected {
                    client_id: CLIENT,
                    issuer: &issuer,
                    nonce: None,
                    same_user: Some(&current),
                    now: NOW,
                },
            )
        };
        let mut without_nonce = claims();
        without_nonce
            .as_object_mut()
            .expect("object")
            .remove("nonce");
        assert_eq!(renewed(&without_nonce), Ok(current.clone()));
        assert_eq!(
            renewed(&with("oid", json!("someone-else"))),
            Err(IdTokenError::OtherUser)
        );
    }
}

/// The token as a whole, its payload decoded by the browser's `atob`.
#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests {
    use serde_json::json;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::tests::{CLIENT, NOW, TENANT, claims};
    use super::*;

    /// An unsigned JWT with this payload (the SPA does not verify signatures, see the module docs).
    fn token(payload: &[u8]) -> String {
        let header = base64url::encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        format!("{header}.{}.c2lnbmF0dXJl", base64url::encode(payload))
    }

    fn check_token(token: &str) -> Result<Account, IdTokenError> {
        let issuer = Issuer::new(&format!("https://login.microsoftonline.com/{TENANT}/v2.0"));
        check(
            token,
            Expected {
                client_id: CLIENT,
                issuer: &issuer,
                nonce: Some("the-nonce"),
                same_user: None,
                now: NOW,
            },
        )
    }

    #[wasm_bindgen_test]
    fn a_valid_token_names_the_account_in_any_script() {
        let mut claims = claims();
        claims["name"] = json!("Zoë Ærøskøbing 東京 😀");
        let account = check_token(&token(claims.to_string().as_bytes())).expect("valid");
        assert_eq!(account.name, "Zoë Ærøskøbing 東京 😀");
        assert_eq!(account.username, "editor@contoso.com");
    }

    #[wasm_bindgen_test]
    fn malformed_tokens() {
        let valid = token(claims().to_string().as_bytes());
        let (header, rest) = valid.split_once('.').expect("header");
        let (payload, _) = rest.split_once('.').expect("payload");
        let not_json = token(b"not json");
        let not_utf8 = token(b"{\"name\":\"\xff\"}");
        let padded = format!("{header}.{payload}==.sig");
        let long = format!("{header}.{}.sig", "e30".repeat(MAX_TOKEN_BYTES / 3 + 1));
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "e30.!!!.sig",
            "e30.Z.sig",
            "e30.e30=.sig",
            "e30.e3+9.sig",
            &not_json,
            &not_utf8,
            &padded,
            &long,
        ] {
            assert_eq!(check_token(bad), Err(IdTokenError::Malformed), "{bad}");
        }
        assert!(check_token(&valid).is_ok());
    }
}
