//! `dev-identity`: the local Entra ID stand-in, from the command line. DEVELOPMENT ONLY.

use std::process::ExitCode;

use clap::{Parser, error::ErrorKind};
use dev_identity::{Cli, RunningProvider, TokenVersion};
use tracing_subscriber::EnvFilter;

/// Bad flags or files: the shell's "misuse" status, as clap uses.
const USAGE_ERROR: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err)
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
            ) =>
        {
            // Help and version go to stdout; if that fails there is nobody to tell.
            let _ = err.print();
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            // One line: clap's first line names the flag and what is wrong with its value.
            let message = err.to_string();
            eprintln!(
                "{}",
                message.lines().next().unwrap_or("error: invalid arguments")
            );
            return ExitCode::from(USAGE_ERROR);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("dev_identity=info")),
        )
        .init();
    let builder = match cli.into_builder() {
        Ok(builder) => builder,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(USAGE_ERROR);
        }
    };
    let provider = match builder.spawn().await {
        Ok(provider) => provider,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", banner(&provider));
    stop_requested().await;
    match provider.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM from whatever started the provider (a script, `cargo xtask dev`).
async fn stop_requested() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            eprintln!("error: cannot wait for Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    () = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(err) => {
                eprintln!("error: cannot wait for SIGTERM: {err}");
                interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    interrupt.await;
}

fn banner(provider: &RunningProvider) -> String {
    let (version, audience) = match provider.access_token_version() {
        TokenVersion::V1 => ("v1", format!("api://{}", provider.api_client_id())),
        TokenVersion::V2 => ("v2", provider.api_client_id().to_string()),
    };
    let users: Vec<String> = provider
        .users()
        .iter()
        .map(|user| {
            let roles: Vec<&str> = user.roles().iter().map(|role| role.as_str()).collect();
            let roles = if roles.is_empty() {
                "no role".to_owned()
            } else {
                roles.join(", ")
            };
            format!("{} ({roles})", user.name())
        })
        .collect();
    let redirects: Vec<&str> = provider
        .redirect_uris()
        .iter()
        .map(|uri| uri.as_str())
        .collect();
    let api_env: Vec<String> = provider
        .api_environment()
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    format!(
        "dev-identity: DEVELOPMENT ONLY. A local stand-in for Microsoft Entra ID that signs in \
         made-up users without passwords; never expose it or trust its tokens outside development.\n\
         \x20 authority      {authority}\n\
         \x20 SPA client id  {spa}\n\
         \x20 redirect URIs  {redirects}\n\
         \x20 access tokens  {version}, aud {audience}, scp access_as_user\n\
         \x20 users          {users}\n\
         \x20 API settings   {api_env}\n\
         Press Ctrl-C to stop.",
        authority = provider.authority(),
        spa = provider.spa_client_id(),
        redirects = redirects.join(" "),
        users = users.join(", "),
        api_env = api_env.join(" "),
    )
}
