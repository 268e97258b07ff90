//! Strict parsing of a compact JWS (`header.claims.signature`) into typed parts.
//!
//! Nothing here trusts the token: it only refuses what is malformed, of the wrong type or not
//! understood (a `crit` header, any algorithm but RS256), so that the verifier works on typed
//! values. Signature and claim checks live in [`super::verifier`].

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Deserializer, de::IgnoredAny};

use super::TokenError;

/// Tokens longer than this are refused before any decoding. Entra access tokens are 1–3 KiB, even
/// with many roles (groups overage moves large group lists out of the token).
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The only signature algorithm Entra ID uses for access tokens, and the only one accepted.
pub const ALGORITHM: &str = "RS256";

/// The JOSE header fields the API reads. `jku`, `x5u`, `jwk` and `x5c` would point at keys chosen by
/// whoever made the token, so they are ignored: keys come only from the tenant's JWKS.
#[derive(Debug, Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
    /// Present means "you must understand these extensions"; the API understands none.
    crit: Option<IgnoredAny>,
}

/// A header that passed the algorithm and `crit` rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Key id: which key of the tenant's JWKS signed the token.
    pub kid: String,
}

/// `aud`: one string or a list of strings (RFC 7519 §4.1.3); anything else is refused.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// Whether any audience value is one of `accepted`.
    pub fn contains_any(&self, accepted: &[String]) -> bool {
        match self {
            Audience::One(aud) => accepted.contains(aud),
            Audience::Many(auds) => auds.iter().any(|aud| accepted.contains(aud)),
        }
    }
}

/// The claims the API reads, with the types Entra issues. serde refuses wrong types, duplicate
/// fields and missing required claims, so a claim is never half-understood.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: Audience,
    #[serde(deserialize_with = "numeric_date")]
    pub exp: i64,
    #[serde(deserialize_with = "numeric_date")]
    pub nbf: i64,
    /// Tenant of the user (or app) the token was issued for.
    pub tid: String,
    /// Object id: the stable identity of the user in the tenant.
    pub oid: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Sign-in name in v2 tokens.
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// Sign-in name in v1 tokens.
    #[serde(default)]
    pub upn: Option<String>,
    /// Sign-in name in v1 tokens of guests and personal accounts.
    #[serde(default)]
    pub unique_name: Option<String>,
    /// Delegated scopes, space-separated: present in tokens a user obtained through an app.
    #[serde(default)]
    pub scp: Option<String>,
    /// App roles assigned to the user (or application).
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// A token split and decoded, its signature not yet checked.
#[derive(Debug, Clone)]
pub struct UnverifiedToken<'a> {
    pub header: Header,
    pub claims: Claims,
    /// `base64url(header) "." base64url(claims)`: the bytes the signature covers.
    pub signing_input: &'a [u8],
    pub signature: Vec<u8>,
}

/// Splits and decodes a compact JWS, enforcing the header rules and the claim types.
///
/// Public so the fuzz target exercises exactly what untrusted input reaches.
pub fn decode(token: &str) -> Result<UnverifiedToken<'_>, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("not three dot-separated parts"));
    };

    let header: RawHeader = serde_json::from_slice(&base64url(header_b64)?)
        .map_err(|_| TokenError::Malformed("header is not the expected JSON"))?;
    if header.alg != ALGORITHM {
        return Err(TokenError::Algorithm);
    }
    if header.crit.is_some() {
        return Err(TokenError::CriticalHeader);
    }
    let kid = header
        .kid
        .filter(|kid| !kid.is_empty())
        .ok_or(TokenError::MissingKid)?;

    let claims: Claims = serde_json::from_slice(&base64url(claims_b64)?)
        .map_err(|_| TokenError::Malformed("claims are missing or of the wrong type"))?;
    let signature = base64url(signature_b64)?;
    if signature.is_empty() {
        return Err(TokenError::Malformed("empty signature"));
    }

    let signing_input_len = header_b64.len() + 1 + claims_b64.len();
    Ok(UnverifiedToken {
        header: Header { kid },
        claims,
        signing_input: &token.as_bytes()[..signing_input_len],
        signature,
    })
}

/// Unpadded base64url only (RFC 7515 §2): padding or the standard alphabet is a malformed token.
fn base64url(part: &str) -> Result<Vec<u8>, TokenError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed("a part is not unpadded base64url"))
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds since the epoch, fractions allowed and
/// truncated. A string, even of digits, is refused.
fn numeric_date<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    let seconds = f64::deserialize(deserializer)?;
    if !(0.0..=1e11).contains(&seconds) {
        return Err(serde::de::Error::custom("NumericDate out of range"));
    }
    #[expect(
        clippy::cast_possible_truncation,
        reason = "range checked above; fractions of a second are dropped on purpose"
    )]
    Ok(seconds as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
    }

    fn claims() -> Value {
        json!({"iss": "i", "aud": "a", "exp": 2_000_000_000, "nbf": 1_000_000_000,
               "tid": "t", "oid": "o", "scp": "access_as_user"})
    }

    fn token(header: &Value, claims: &Value) -> String {
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    fn rs256() -> Value {
        json!({"alg": "RS256", "kid": "k", "typ": "JWT"})
    }

    #[test]
    fn decodes_a_well_formed_token() {
        let text = token(&rs256(), &claims());
        let decoded = decode(&text).expect("valid");
        assert_eq!(decoded.header.kid, "k");
        assert_eq!(decoded.claims.exp, 2_000_000_000);
        assert_eq!(decoded.claims.aud, Audience::One("a".into()));
        assert_eq!(decoded.signature, b"sig");
        assert_eq!(
            decoded.signing_input,
            text.rsplit_once('.').expect("dot").0.as_bytes()
        );
    }

    #[test]
    fn header_rules() {
        let cases = [
            (json!({"alg": "none", "kid": "k"}), TokenError::Algorithm),
            (json!({"alg": "rs256", "kid": "k"}), TokenError::Algorithm),
            (json!({"alg": "HS256", "kid": "k"}), TokenError::Algorithm),
            (json!({"alg": "PS256", "kid": "k"}), TokenError::Algorithm),
            (json!({"alg": "RS256"}), TokenError::MissingKid),
            (json!({"alg": "RS256", "kid": ""}), TokenError::MissingKid),
            (
                json!({"alg": "RS256", "kid": "k", "crit": ["exp"]}),
                TokenError::CriticalHeader,
            ),
        ];
        for (header, expected) in cases {
            let err = decode(&token(&header, &claims())).expect_err("must fail");
            assert_eq!(err, expected, "header {header}");
        }
        let kid_number = json!({"alg": "RS256", "kid": 7});
        assert!(matches!(
            decode(&token(&kid_number, &claims())),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn claim_types_are_exact() {
        let mutations: [(&str, Value); 9] = [
            ("exp", json!("2000000000")),
            ("nbf", json!(null)),
            ("exp", json!(-1)),
            ("aud", json!({"a": 1})),
            ("aud", json!(["a", 1])),
            ("iss", json!(["i"])),
            ("tid", json!(1)),
            ("roles", json!("Admin")),
            ("scp", json!(["access_as_user"])),
        ];
        for (claim, value) in mutations {
            let mut body = claims();
            body[claim] = value.clone();
            assert!(
                decode(&token(&rs256(), &body)).is_err(),
                "{claim} = {value} must be refused"
            );
        }
        for required in ["iss", "aud", "exp", "nbf", "tid", "oid"] {
            let mut body = claims();
            body.as_object_mut().expect("object").remove(required);
            assert!(
                decode(&token(&rs256(), &body)).is_err(),
                "missing {required}"
            );
        }
        let mut listed = claims();
        listed["aud"] = json!(["x", "a"]);
        listed["exp"] = json!(2_000_000_000.75);
        let text = token(&rs256(), &listed);
        let decoded = decode(&text).expect("list aud, fractional exp");
        assert!(decoded.claims.aud.contains_any(&["a".to_owned()]));
        assert_eq!(decoded.claims.exp, 2_000_000_000);
    }

    #[test]
    fn duplicate_claims_are_refused() {
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k"}"#);
        let body = URL_SAFE_NO_PAD.encode(
            r#"{"iss":"i","aud":"a","exp":2000000000,"nbf":0,"tid":"t","oid":"o","tid":"u"}"#,
        );
        assert!(decode(&format!("{header}.{body}.c2ln")).is_err());
    }

    #[test]
    fn framing_rules() {
        let good = token(&rs256(), &claims());
        let (head, _) = good.rsplit_once('.').expect("dot");
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            &format!("{head}."),
            &format!("{head}.c2ln="),
            &format!("{head}.c2l+"),
            &format!("{good}."),
        ] {
            assert!(
                matches!(decode(bad), Err(TokenError::Malformed(_))),
                "{bad:?}"
            );
        }
        let huge = format!("{good}{}", "A".repeat(MAX_TOKEN_BYTES));
        assert_eq!(decode(&huge).expect_err("too large"), TokenError::TooLarge);
    }
}
