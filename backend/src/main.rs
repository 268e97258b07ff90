//! Start-up only: configuration, logging, bind, serve until SIGTERM/SIGINT.

use std::process::ExitCode;

use backend::{
    AppState, app,
    config::{Config, IdsSource},
    key_vault, serve, telemetry,
};
use tokio::net::TcpListener;

fn main() -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("backend: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config.log);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            tracing::error!(error = %err, "cannot start the async runtime");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "server stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    let shutdown =
        shutdown_signal().map_err(|err| format!("cannot install the signal handlers: {err}"))?;
    let state = AppState::from_config(&config).await?;
    let listener = TcpListener::bind(config.server.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", config.server.listen))?;
    tracing::info!(address = %listener.local_addr()?, "listening");
    let server = serve(
        listener,
        app(state.clone()),
        shutdown,
        config.server.shutdown_timeout,
    );
    match &config.ids {
        IdsSource::Environment(_) => server.await?,
        // Serve (/health, and /ready = 503) while the configuration loads: the platform's probes
        // must see a live process. A load that gives up ends the process.
        IdsSource::KeyVault(vault) => tokio::select! {
            result = server => result?,
            Err(err) = key_vault::run(vault, &config.auth, &state.auth) => return Err(err.into()),
        },
    }
    Ok(())
}

/// SIGINT (Ctrl-C) or SIGTERM (what Container Apps sends before stopping a replica). The handlers
/// are installed by this call, before "listening" is logged, not when the future is first polled:
/// a signal sent as soon as the API says it listens stops it cleanly instead of killing it.
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {},
            _ = terminate.recv() => {},
        }
    })
}
