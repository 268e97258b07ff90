//! Which browser origins may call the API (CORS), from `ALLOWED_ORIGINS`.

use std::{sync::Arc, time::Duration};

use axum::http::{HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    telemetry::REQUEST_ID,
    validate,
    vars::{ConfigError, Vars, invalid},
};

/// The browser origins allowed to call the API with their users' tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorsSettings {
    pub allowed_origins: Vec<HeaderValue>,
}

impl CorsSettings {
    /// `ALLOWED_ORIGINS`: comma-separated origins (`scheme://host[:port]`), default Trunk's dev
    /// server, `http://localhost:8080`. `*` is refused.
    pub fn from_vars(vars: &Vars<'_>) -> Result<Self, ConfigError> {
        const NAME: &str = "ALLOWED_ORIGINS";
        let value = vars
            .get(NAME)
            .unwrap_or_else(|| "http://localhost:8080".into());
        let allowed_origins = value
            .split(',')
            .map(str::trim)
            .filter(|origin| !origin.is_empty())
            .map(|origin| {
                validate::origin(origin).map_err(|reason| invalid(NAME, origin, reason))?;
                HeaderValue::from_str(origin).map_err(|e| invalid(NAME, origin, e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { allowed_origins })
    }

    /// The CORS layer: these origins, the API's methods and headers, the request id readable,
    /// preflights cached for 10 minutes.
    pub fn layer(&self) -> CorsLayer {
        // A predicate over a shared list rather than `AllowOrigin::list`: the middleware stack is
        // cloned for every request, and a list would be copied each time.
        let origins: Arc<[HeaderValue]> = self.allowed_origins.clone().into();
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin, _| {
                origins.contains(origin)
            }))
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
            .expose_headers([REQUEST_ID])
            .max_age(Duration::from_secs(600))
    }
}
