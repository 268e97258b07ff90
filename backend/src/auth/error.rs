//! Why a request could not be authenticated, down to the rule a token broke.

/// Why a token was refused. Logged at debug level and never sent: the caller only learns that the
/// token is invalid, so the API is no oracle for forging one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token over the size limit (jwt::MAX_TOKEN_BYTES)")]
    TooLarge,
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("algorithm is not RS256")]
    Algorithm,
    #[error("header lists critical extensions")]
    CriticalHeader,
    #[error("header has no kid")]
    MissingKid,
    #[error("kid is not in the tenant's key set")]
    UnknownKid,
    #[error("signature does not verify")]
    Signature,
    #[error("token expired")]
    Expired,
    #[error("token not valid yet (nbf)")]
    NotYetValid,
    #[error("audience is not this API")]
    Audience,
    #[error("issuer is not the tenant's v1 or v2 issuer")]
    Issuer,
    #[error("tid is not the configured tenant")]
    Tenant,
    #[error("delegated token without the access_as_user scope")]
    MissingScope,
    #[error("token has neither scp nor roles")]
    NoScopeOrRoles,
}

/// Why a request could not be authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` credentials at all (RFC 6750 §3.1: no error attribute).
    #[error("no bearer token")]
    Missing,
    #[error("invalid token: {0}")]
    Invalid(#[from] TokenError),
    /// The tenant's keys (or the configuration naming the tenant) were never loaded: no token can
    /// be judged, so none is accepted.
    #[error("signing keys are not loaded")]
    Unavailable,
}
