//! A compact JWS access token, judged in two steps around the `jsonwebtoken` crate:
//!
//! 1. [`header`]: the header rules jsonwebtoken does not apply or does not name (a `crit` header,
//!    a missing `kid`, any algorithm but RS256 told apart from malformed JSON), so the verifier
//!    knows which key to fetch before any signature work.
//! 2. [`decode`]: jsonwebtoken checks the signature with that key, then the registered claims
//!    ([`rules`]: RS256 only, `exp` and `nbf` with the configured leeway, the accepted audiences
//!    and issuers), and the claims come back in the API's strict [`Claims`] type.
//!
//! Claims jsonwebtoken knows nothing of (the tenant, `scp` and `roles`) are checked by
//! [`super::verifier`].

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::{Deserialize, Deserializer, de::IgnoredAny};

use super::error::TokenError;

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

/// A header that passed the algorithm, `crit` and `kid` rules.
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

/// The claims the API reads, with the types Entra issues. serde refuses wrong types, duplicate
/// fields and missing required claims, so a claim is never half-understood (jsonwebtoken alone
/// would take an `iss` list, for one).
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

/// The header rules, checked before a key is looked up: three parts with a non-empty signature,
/// `alg` exactly `RS256`, no `crit`, a non-empty `kid`.
///
/// Public so the fuzz target exercises exactly what untrusted input reaches.
pub fn header(token: &str) -> Result<Header, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(_claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed("not three dot-separated parts"));
    };
    if signature.is_empty() {
        return Err(TokenError::Malformed("empty signature"));
    }
    let json = base64url(header_b64)?;
    let header: RawHeader = serde_json::from_slice(&json)
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
    Ok(Header { kid })
}

/// What jsonwebtoken checks for this API: RS256 only; `exp`, `nbf`, `aud` and `iss` required;
/// `exp` and `nbf` with `leeway` either way; `aud` one of `audiences` and `iss` one of
/// `issuers`.
pub fn rules(audiences: &[&str], issuers: &[&str], leeway: Duration) -> Validation {
    let mut rules = Validation::new(Algorithm::RS256);
    rules.set_required_spec_claims(&["exp", "nbf", "aud", "iss"]);
    rules.validate_exp = true;
    rules.validate_nbf = true;
    rules.leeway = leeway.as_secs();
    rules.set_audience(audiences);
    rules.set_issuer(issuers);
    rules
}

/// Verifies the signature with `key` and the registered claims with `rules` (see [`rules`]), and
/// returns the claims. Call [`header`] first: it finds the key and applies the header rules.
pub fn decode(token: &str, key: &DecodingKey, rules: &Validation) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(TokenError::TooLarge);
    }
    jsonwebtoken::decode::<Claims>(token, key, rules)
        .map(|data| data.claims)
        .map_err(|err| refusal(err.kind()))
}

/// jsonwebtoken's reason in the API's words.
fn refusal(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::Signature,
        ErrorKind::InvalidAlgorithm => TokenError::Algorithm,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::ImmatureSignature => TokenError::NotYetValid,
        ErrorKind::InvalidAudience => TokenError::Audience,
        ErrorKind::InvalidIssuer => TokenError::Issuer,
        ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_)
        | ErrorKind::Json(_) => TokenError::Malformed("claims are missing or of the wrong type"),
        ErrorKind::Base64(_) | ErrorKind::Utf8(_) | ErrorKind::InvalidToken => {
            TokenError::Malformed("a part is not unpadded base64url")
        }
        // A key that cannot verify (wrong family, bad components): nothing this token can fix.
        _ => TokenError::Signature,
    }
}

/// Unpadded base64url only (RFC 7515 §2): padding or the standard alphabet is a malformed token.
fn base64url(part: &str) -> Result<Vec<u8>, TokenError> {
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
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
    use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
    use serde_json::{Value, json};
    use testkit::{TestKey, compact, sign};

    use super::*;

    fn b64(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
    }

    fn claims() -> Value {
        json!({"iss": "i", "aud": "a", "exp": 2_000_000_000, "nbf": 1_000_000_000,
               "tid": "t", "oid": "o", "scp": "access_as_user"})
    }

    fn unsigned(header: &Value, claims: &Value) -> String {
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    fn rs256() -> Value {
        json!({"alg": "RS256", "kid": "k", "typ": "JWT"})
    }

    /// The primary test key, as the key store holds it, and rules accepting `claims()`.
    fn key_and_rules() -> (TestKey, DecodingKey, Validation) {
        let key = TestKey::primary();
        let decoding = DecodingKey::from_rsa_der(&key.public_der());
        let rules = rules(&["a"], &["i"], Duration::ZERO);
        (key, decoding, rules)
    }

    #[test]
    fn decodes_a_well_formed_token() {
        let (key, decoding, rules) = key_and_rules();
        let text = sign(&key, &claims());
        assert_eq!(header(&text).expect("header").kid, "primary");
        let claims = decode(&text, &decoding, &rules).expect("valid");
        assert_eq!(claims.exp, 2_000_000_000);
        assert_eq!(claims.aud, Audience::One("a".into()));
        assert_eq!(claims.scp.as_deref(), Some("access_as_user"));
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
        for (head, expected) in cases {
            let err = header(&unsigned(&head, &claims())).expect_err("must fail");
            assert_eq!(err, expected, "header {head}");
        }
        let kid_number = json!({"alg": "RS256", "kid": 7});
        assert!(matches!(
            header(&unsigned(&kid_number, &claims())),
            Err(TokenError::Malformed(_))
        ));
    }

    #[test]
    fn claim_types_are_exact() {
        let (key, decoding, rules) = key_and_rules();
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
                decode(&sign(&key, &body), &decoding, &rules).is_err(),
                "{claim} = {value} must be refused"
            );
        }
        for required in ["iss", "aud", "exp", "nbf", "tid", "oid"] {
            let mut body = claims();
            body.as_object_mut().expect("object").remove(required);
            assert!(
                decode(&sign(&key, &body), &decoding, &rules).is_err(),
                "missing {required}"
            );
        }
        let mut listed = claims();
        listed["aud"] = json!(["x", "a"]);
        listed["exp"] = json!(2_000_000_000.75);
        let decoded = decode(&sign(&key, &listed), &decoding, &rules).expect("list aud");
        assert_eq!(decoded.aud, Audience::Many(vec!["x".into(), "a".into()]));
        assert_eq!(decoded.exp, 2_000_000_000);
    }

    #[test]
    fn registered_claims_are_checked_after_the_signature() {
        let (key, decoding, rules) = key_and_rules();
        let cases = [
            ("aud", json!("b"), TokenError::Audience),
            ("aud", json!(["b", "c"]), TokenError::Audience),
            ("iss", json!("j"), TokenError::Issuer),
            ("exp", json!(1_000_000_000), TokenError::Expired),
            ("nbf", json!(4_000_000_000_u64), TokenError::NotYetValid),
        ];
        for (claim, value, expected) in cases {
            let mut body = claims();
            body[claim] = value.clone();
            let err = decode(&sign(&key, &body), &decoding, &rules).expect_err("refused");
            assert_eq!(err, expected, "{claim} = {value}");
        }
        let foreign = sign(&TestKey::foreign(), &claims());
        assert_eq!(
            decode(&foreign, &decoding, &rules),
            Err(TokenError::Signature)
        );
    }

    #[test]
    fn duplicate_claims_are_refused() {
        let (key, decoding, rules) = key_and_rules();
        let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"primary"}"#);
        let body = URL_SAFE_NO_PAD.encode(
            r#"{"iss":"i","aud":"a","exp":2000000000,"nbf":0,"tid":"t","oid":"o","tid":"u"}"#,
        );
        let input = format!("{head}.{body}");
        let signature = key.sign(testkit::Alg::Rs256, input.as_bytes());
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
        assert!(decode(&token, &decoding, &rules).is_err());
    }

    #[test]
    fn framing_rules() {
        let good = unsigned(&rs256(), &claims());
        let (head, _) = good.rsplit_once('.').expect("dot");
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            &format!("{head}."),
            &format!("{good}."),
        ] {
            assert!(
                matches!(header(bad), Err(TokenError::Malformed(_))),
                "{bad:?}"
            );
        }
        let (key, decoding, rules) = key_and_rules();
        let signed = sign(&key, &claims());
        let (head, _) = signed.rsplit_once('.').expect("dot");
        for bad in [format!("{head}.c2ln="), format!("{head}.c2l+")] {
            assert!(
                matches!(
                    decode(&bad, &decoding, &rules),
                    Err(TokenError::Malformed(_))
                ),
                "{bad:?}"
            );
        }
        let huge = format!("{good}{}", "A".repeat(MAX_TOKEN_BYTES));
        assert_eq!(header(&huge).expect_err("too large"), TokenError::TooLarge);
        assert_eq!(
            decode(&huge, &decoding, &rules).expect_err("too large"),
            TokenError::TooLarge
        );
        let unsigned_alg_none = compact(&json!({"alg": "none", "kid": "k"}), &claims(), b"");
        assert!(header(&unsigned_alg_none).is_err());
    }
}
