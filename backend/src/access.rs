//! The axum side of authentication: [`authenticate`], the layer in front of every route that
//! takes a token, and the extractors with which handlers say which roles they need.
//!
//! The layer checks the bearer token and puts the caller ([`Principal`]) in the request, so a
//! route added behind it cannot forget authentication. [`Authorized<R>`] then checks roles: a
//! handler that takes `Authorized<CreateTasks>` only runs for a caller holding Admin or Editor.

use std::{marker::PhantomData, ops::Deref, sync::Arc};

use axum::{
    extract::{FromRequestParts, Request, State},
    http::{HeaderMap, header::AUTHORIZATION, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};
use shared::{Permission, Role};

use crate::{
    auth::{AuthError, Principal, TokenError},
    error::AppError,
    state::AppState,
};

/// The authentication layer: a request without a valid access token is answered here (401, or
/// 503 while the signing keys are not loaded); one with a valid token reaches the route with its
/// [`Principal`].
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let verified = match bearer_token(request.headers()) {
        Ok(token) => state.auth.authenticate(token).await,
        Err(err) => Err(err),
    };
    match verified {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(err) => {
            tracing::debug!(reason = %err, "token refused");
            AppError::Auth(err).into_response()
        }
    }
}

/// Which app roles a route needs (any of them); empty: any valid token.
pub trait Requirement {
    const ROLES: &'static [Role];
}

/// `GET /api/me`: any valid token, with or without roles.
#[derive(Debug)]
pub struct Authenticated;
/// `GET /api/tasks`: any role of this app (a user without a role assignment has no access).
#[derive(Debug)]
pub struct ListTasks;
/// `POST /api/tasks`.
#[derive(Debug)]
pub struct CreateTasks;
/// `PATCH /api/tasks/{id}` (whose task is checked by the handler).
#[derive(Debug)]
pub struct EditTasks;
/// `DELETE /api/tasks/{id}`.
#[derive(Debug)]
pub struct DeleteTasks;

impl Requirement for Authenticated {
    const ROLES: &'static [Role] = &[];
}
impl Requirement for ListTasks {
    const ROLES: &'static [Role] = Permission::List.roles();
}
impl Requirement for CreateTasks {
    const ROLES: &'static [Role] = Permission::Create.roles();
}
impl Requirement for EditTasks {
    const ROLES: &'static [Role] = Permission::Edit.roles();
}
impl Requirement for DeleteTasks {
    const ROLES: &'static [Role] = Permission::Delete.roles();
}

/// A caller with a valid access token who holds one of `R::ROLES`.
#[derive(Debug)]
pub struct Authorized<R> {
    pub principal: Arc<Principal>,
    requirement: PhantomData<R>,
}

impl<R> Deref for Authorized<R> {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
}

impl<R: Requirement + Send, S: Send + Sync> FromRequestParts<S> for Authorized<R> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        // Only a route outside the authentication layer has no principal: a bug, refused.
        let principal = parts
            .extensions
            .get::<Arc<Principal>>()
            .cloned()
            .ok_or(AppError::NotAuthenticated)?;
        if !principal.has_any(R::ROLES) {
            return Err(AppError::Forbidden { needs: R::ROLES });
        }
        Ok(Self {
            principal,
            requirement: PhantomData,
        })
    }
}

/// The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235). No header,
/// or another scheme, is "no credentials"; several headers or an empty token is an invalid one.
fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return if headers.contains_key(AUTHORIZATION) {
            Err(TokenError::Malformed("several Authorization headers").into())
        } else {
            Err(AuthError::Missing)
        };
    };
    let value = value
        .to_str()
        .map_err(|_| TokenError::Malformed("Authorization header is not ASCII"))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    match token.trim_matches(' ') {
        "" => Err(TokenError::Malformed("empty bearer token").into()),
        token => Ok(token),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(values: &[&'static str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(AUTHORIZATION, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn bearer_scheme_is_case_insensitive() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc"] {
            assert_eq!(bearer_token(&headers(&[value])), Ok("abc"), "{value}");
        }
    }

    #[test]
    fn missing_or_other_schemes_are_no_credentials() {
        assert_eq!(bearer_token(&headers(&[])), Err(AuthError::Missing));
        assert_eq!(
            bearer_token(&headers(&["Basic dXNlcjpwYXNz"])),
            Err(AuthError::Missing)
        );
        assert_eq!(
            bearer_token(&headers(&["Bearerabc"])),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn empty_or_repeated_tokens_are_invalid() {
        for case in [&["Bearer"][..], &["Bearer   "], &["Bearer a", "Bearer b"]] {
            assert!(
                matches!(bearer_token(&headers(case)), Err(AuthError::Invalid(_))),
                "{case:?}"
            );
        }
    }
}
