//! Serving: where the API listens and how long requests may take (each from its own variable),
//! and [`serve`], which runs the app with a bounded graceful shutdown.

use std::{
    future::Future,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use axum::Router;
use tokio::net::TcpListener;

use crate::vars::{ConfigError, Vars, invalid};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// `BIND_ADDRESS` (default `0.0.0.0`) and `PORT` (default 8000).
    pub listen: SocketAddr,
    /// `REQUEST_TIMEOUT_SECS` (default 10): a request still running then is answered 408.
    pub request_timeout: Duration,
    /// `SHUTDOWN_TIMEOUT_SECS` (default 10): how long requests in flight may finish after
    /// SIGTERM/SIGINT before the process exits anyway.
    pub shutdown_timeout: Duration,
}

impl ServerSettings {
    pub fn from_vars(vars: &Vars<'_>) -> Result<Self, ConfigError> {
        let ip = match vars.get("BIND_ADDRESS") {
            None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Some(value) => value.parse().map_err(|_| {
                invalid(
                    "BIND_ADDRESS",
                    &value,
                    "expected an IP address such as 0.0.0.0 or 127.0.0.1",
                )
            })?,
        };
        let port = vars.number("PORT", 8000, 0..=u16::MAX.into())?;
        let port =
            u16::try_from(port).map_err(|_| invalid("PORT", &port.to_string(), "too large"))?;
        Ok(Self {
            listen: SocketAddr::new(ip, port),
            request_timeout: vars.seconds("REQUEST_TIMEOUT_SECS", 10, 1..=300)?,
            shutdown_timeout: vars.seconds("SHUTDOWN_TIMEOUT_SECS", 10, 1..=300)?,
        })
    }
}

/// Serves `router` until `shutdown` completes, then lets requests in flight finish for at most
/// `grace` before returning.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
    let signal = async move {
        shutdown.await;
        tracing::info!("shutting down: finishing requests in flight");
        let _ = stopping_tx.send(());
    };
    let server = axum::serve(listener, router).with_graceful_shutdown(signal);
    let deadline = async move {
        if stopping_rx.await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = server.into_future() => result,
        () = deadline => {
            tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight at the shutdown deadline were dropped");
            Ok(())
        }
    }
}
