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
    // Listening before the banner: a script that reads it and sends SIGTERM at once must find the
    // handler in place, or the signal's default action kills the provider mid-shutdown.
    let stop = stop_requested();
    println!("{}", banner(&provider));
    stop.await;
    match provider.shutdown().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Ctrl-C, or SIGTERM from whatever started the provider (a script, `cargo xtask dev`). The
/// handlers are installed by this call, not when the future is first awaited.
#[cfg(unix)]
fn stop_requested() -> impl Future<Output = ()> {
    use tokio::signal::unix::{Signal, SignalKind, signal};
    let listen = |kind: SignalKind, name: &str| {
        signal(kind)
            .inspect_err(|err| eprintln!("error: cannot wait for {name}: {err}"))
            .ok()
    };
    let mut interrupt = listen(SignalKind::interrupt(), "Ctrl-C");
    let mut terminate = listen(SignalKind::terminate(), "SIGTERM");
    async fn received(signal: Option<&mut Signal>) {
        match signal {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
    }
    async move {
        tokio::select! {
            () = received(interrupt.as_mut()) => {}
            () = received(terminate.as_mut()) => {}
        }
    }
}

#[cfg(not(unix))]
fn stop_requested() -> impl Future<Output = ()> {
    async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            eprintln!("error: cannot wait for Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    }
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
    let uris = |uris: &[dev_identity::RedirectUri]| {
        uris.iter()
            .map(|uri| uri.as_str().to_owned())
            .collect::<Vec<_>>()
            .join(" ")
    };
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
         \x20 redirect URIs  {spa_redirects}\n\
         \x20 public client  {public}\n\
         \x20 public URIs    {public_redirects} (loopback ones: any port)\n\
         \x20 access tokens  {version}, aud {audience}, scp access_as_user\n\
         \x20 users          {users}\n\
         \x20 API settings   {api_env}\n\
         {trust}Press Ctrl-C to stop.",
        authority = provider.authority(),
        spa = provider.spa_client_id(),
        spa_redirects = uris(provider.redirect_uris()),
        public = provider.public_client_id(),
        public_redirects = uris(provider.public_redirect_uris()),
        users = users.join(", "),
        api_env = api_env.join(" "),
        trust = provider
            .ca_certificate()
            .map_or(String::new(), |ca| trust_help(ca, provider.ca_created())),
    )
}

/// How to trust the local CA, for the clients a developer is likely to point at it.
fn trust_help(ca: &std::path::Path, created: bool) -> String {
    let ca = ca.display();
    let news = if created {
        "a new local CA was created: trust it once"
    } else {
        "HTTPS with the local CA (trust it once if not done yet)"
    };
    format!(
        "\x20 HTTPS          {news}: {ca}\n\
         \x20   the API        SSL_CERT_FILE={ca} (replaces the system's list: for local runs)\n\
         \x20   Node, MSAL     NODE_EXTRA_CA_CERTS={ca}\n\
         \x20   Python, MSAL   REQUESTS_CA_BUNDLE={ca} or SSL_CERT_FILE={ca}\n\
         \x20   Debian/Ubuntu  sudo cp {ca} /usr/local/share/ca-certificates/dev-identity.crt && sudo update-ca-certificates\n\
         \x20   macOS          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}\n"
    )
}
