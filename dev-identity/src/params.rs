//! Request parameters, from a query string or a form body, with Entra-style errors and bounds.
//!
//! Every parameter is checked before it is deserialised: at most [`MAX_PARAMS`] of them, each value
//! at most [`MAX_PARAM_CHARS`] characters, none repeated (OAuth 2.0 forbids repeating one, and a
//! repeated `redirect_uri` is a classic way to confuse a provider). Unknown parameters are ignored,
//! as Entra ignores the telemetry ones client libraries add.

use std::collections::HashSet;

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;
use url::form_urlencoded;

use crate::error::{Error, ErrorPage};

const MAX_PARAMS: usize = 32;
const MAX_PARAM_NAME_CHARS: usize = 64;
/// Long enough for any `state` or `redirect_uri` a real client sends, short enough to bound work.
pub(crate) const MAX_PARAM_CHARS: usize = 2048;

/// Parameters from the query string.
#[derive(Debug)]
pub(crate) struct Query<T>(pub(crate) T);

/// Query parameters of a page the browser navigates to: refused ones are shown as an error page,
/// never redirected, because the redirect target is not known to be safe.
#[derive(Debug)]
pub(crate) struct PageQuery<T>(pub(crate) T);

/// Parameters from an `application/x-www-form-urlencoded` body (size bounded by the app's
/// `DefaultBodyLimit`).
#[derive(Debug)]
pub(crate) struct Form<T>(pub(crate) T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse(parts.uri.query().unwrap_or_default().as_bytes()).map(Query)
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for PageQuery<T> {
    type Rejection = ErrorPage;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::from_request_parts(parts, state).await {
            Ok(Query(params)) => Ok(PageQuery(params)),
            Err(err) => Err(ErrorPage(err)),
        }
    }
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Form<T> {
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(Error::Malformed(
                "the body must be application/x-www-form-urlencoded".into(),
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| Error::Malformed(rejection.body_text()))?;
        parse(&body).map(Form)
    }
}

fn parse<T: DeserializeOwned>(raw: &[u8]) -> Result<T, Error> {
    let mut seen = HashSet::new();
    for (count, (name, value)) in form_urlencoded::parse(raw).enumerate() {
        if count >= MAX_PARAMS {
            return Err(Error::Malformed(format!(
                "more than {MAX_PARAMS} parameters"
            )));
        }
        if name.chars().count() > MAX_PARAM_NAME_CHARS {
            return Err(Error::Malformed("a parameter name is too long".into()));
        }
        if value.chars().count() > MAX_PARAM_CHARS {
            return Err(Error::ParameterTooLong(name.into_owned(), MAX_PARAM_CHARS));
        }
        if !seen.insert(name.clone()) {
            return Err(Error::Malformed(format!(
                "the parameter '{name}' is repeated"
            )));
        }
    }
    serde_urlencoded::from_bytes(raw).map_err(|err| Error::Malformed(err.to_string()))
}

/// A parameter that must be present and non-empty.
pub(crate) fn required<T: AsRef<str>>(value: Option<T>, name: &'static str) -> Result<T, Error> {
    value
        .filter(|value| !value.as_ref().is_empty())
        .ok_or(Error::MissingParameter(name))
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Params {
        a: Option<String>,
    }

    #[test]
    fn repeated_and_oversized_parameters_are_refused_by_name() {
        let repeated = parse::<Params>(b"a=1&a=2").expect_err("repeated");
        assert!(
            repeated.to_string().contains("'a' is repeated"),
            "{repeated}"
        );
        let long = format!("a={}", "x".repeat(MAX_PARAM_CHARS + 1));
        let too_long = parse::<Params>(long.as_bytes()).expect_err("too long");
        assert!(matches!(too_long, Error::ParameterTooLong(name, _) if name == "a"));
        let many: String = (0..=MAX_PARAMS).map(|i| format!("p{i}=1&")).collect();
        assert!(parse::<Params>(many.as_bytes()).is_err());
    }

    #[test]
    fn unknown_parameters_are_ignored() {
        let params = parse::<Params>(b"a=%20x&x-client-SKU=msal").expect("valid");
        assert_eq!(params.a.as_deref(), Some(" x"));
        assert!(matches!(
            required(Some(String::new()), "a"),
            Err(Error::MissingParameter("a"))
        ));
    }
}
