//! HTTPS (`--https`): a local certificate authority kept in a data folder, a certificate for
//! `localhost`, `127.0.0.1` and `[::1]` signed by it at every start, and a listener that serves
//! TLS with it.
//!
//! The CA is created on first use and kept (its key readable by its owner only) so that trusting
//! it once lasts: MSAL and the other Entra client libraries refuse an `http` authority, and a
//! developer points them (or the system) at `ca.pem`. Its key never leaves the data folder, which
//! is never the repository's.

use std::{
    fs,
    io::{self, Write},
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use axum::serve::Listener;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use time::OffsetDateTime;
use tokio::{
    net::{TcpListener, TcpStream},
    sync::mpsc,
    task::JoinHandle,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self, ServerConfig,
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    },
    server::TlsStream,
};

/// The CA certificate: what clients are told to trust.
const CA_CERT_FILE: &str = "ca.pem";
/// The CA's private key: owner-only.
const CA_KEY_FILE: &str = "ca-key.pem";
const CA_NAME: &str = "dev-identity local CA (development only)";
/// Ten years: trusting it is a manual step, best done once.
const CA_VALIDITY: time::Duration = time::Duration::days(3650);
/// Under the 398 days browsers accept for a server certificate; it is made anew at every start.
const SERVER_VALIDITY: time::Duration = time::Duration::days(397);
/// A client that has not finished its handshake by then is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them.
const ACCEPT_QUEUE: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot use the data folder {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("the CA key {path} is not a PEM private key dev-identity can use: {source}")]
    BadKey { path: String, source: rcgen::Error },
    #[error("cannot make a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    #[error("cannot set up TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The local CA, loaded (or created) from the data folder, and the server configuration it signs.
#[derive(Debug)]
pub(crate) struct LocalCa {
    ca_cert: PathBuf,
    /// Whether this start created the CA (it must then be trusted anew).
    created: bool,
    server: Arc<ServerConfig>,
}

impl LocalCa {
    /// Loads the CA from `data_dir`, creating the folder and the CA if missing, and signs a
    /// server certificate with it. Blocking (file system, key generation).
    pub(crate) fn load_or_create(data_dir: &Path) -> Result<Self, TlsError> {
        let io_error = |path: &Path| {
            let path = path.display().to_string();
            move |source| TlsError::Io { path, source }
        };
        create_private_dir(data_dir).map_err(io_error(data_dir))?;
        let key_path = data_dir.join(CA_KEY_FILE);
        let cert_path = data_dir.join(CA_CERT_FILE);
        let (key, created) = if key_path.is_file() && cert_path.is_file() {
            let pem = fs::read_to_string(&key_path).map_err(io_error(&key_path))?;
            let key = KeyPair::from_pem(&pem).map_err(|source| TlsError::BadKey {
                path: key_path.display().to_string(),
                source,
            })?;
            (key, false)
        } else {
            let key = KeyPair::generate()?;
            let now = OffsetDateTime::now_utc();
            let mut params = ca_params();
            params.not_before = now - time::Duration::days(1);
            params.not_after = now + CA_VALIDITY;
            let cert = params.self_signed(&key)?;
            write_private(&key_path, key.serialize_pem().as_bytes())
                .map_err(io_error(&key_path))?;
            fs::write(&cert_path, cert.pem()).map_err(io_error(&cert_path))?;
            (key, true)
        };
        // The issuer is the CA's name and key: what the stored certificate holds, so what this
        // signs chains to it.
        let issuer = Issuer::new(ca_params(), key);
        Ok(LocalCa {
            ca_cert: cert_path,
            created,
            server: server_config(&issuer)?,
        })
    }

    /// `ca.pem`: the certificate to trust.
    pub(crate) fn ca_cert(&self) -> &Path {
        &self.ca_cert
    }

    pub(crate) fn created(&self) -> bool {
        self.created
    }

    /// Serves TLS on `listener`: handshakes run concurrently, each bounded by a timeout, and
    /// only finished ones reach the server.
    pub(crate) fn listener(&self, listener: TcpListener) -> io::Result<TlsListener> {
        let local_addr = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::clone(&self.server));
        let (ready, incoming) = mpsc::channel(ACCEPT_QUEUE);
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    // Out of file descriptors and the like: wait rather than spin.
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                };
                let acceptor = acceptor.clone();
                let ready = ready.clone();
                tokio::spawn(async move {
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                        Ok(Ok(tls)) => {
                            let _ = ready.send((tls, peer)).await;
                        }
                        Ok(Err(err)) => tracing::debug!("TLS handshake failed: {err}"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            local_addr,
            incoming,
            task,
        })
    }
}

/// The CA's certificate parameters: the same at creation and at every later load.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn server_config(issuer: &Issuer<'_, KeyPair>) -> Result<Arc<ServerConfig>, TlsError> {
    let mut params = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])?;
    params
        .distinguished_name
        .push(DnType::CommonName, "dev-identity (localhost)");
    params.use_authority_key_identifier_extension = true;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + SERVER_VALIDITY;
    let key = KeyPair::generate()?;
    let cert = params.signed_by(&key, issuer)?;
    let chain = vec![CertificateDer::from(cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The folder, readable by its owner only where the platform has such modes.
fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new file, readable by its owner only where the platform has such modes.
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(contents)
}

/// Where the CA lives when no `--data-dir` is given: the platform's per-user data folder
/// (`$XDG_DATA_HOME` or `~/.local/share`, `~/Library/Application Support`, `%LOCALAPPDATA%`).
pub fn default_data_dir() -> Option<PathBuf> {
    let env = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
    let base = if cfg!(windows) {
        env("LOCALAPPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|home| PathBuf::from(home).join("Library/Application Support"))
    } else {
        env("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".local/share")))
    };
    base.map(|base| base.join("dev-identity"))
}

/// TLS connections, handshaken, for `axum::serve`. Dropping it stops accepting.
#[derive(Debug)]
pub(crate) struct TlsListener {
    local_addr: SocketAddr,
    incoming: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    task: JoinHandle<()>,
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(connection) => connection,
            // The accepting task is gone (it never ends on its own): nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_created_once_and_kept_with_an_owner_only_key() {
        let dir = std::env::temp_dir().join(format!("dev-identity-ca-{}", std::process::id()));
        let first = LocalCa::load_or_create(&dir).expect("created");
        assert!(first.created());
        let pem = fs::read_to_string(first.ca_cert()).expect("ca.pem");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
        let again = LocalCa::load_or_create(&dir).expect("loaded");
        assert!(!again.created(), "the second start reuses it");
        assert_eq!(fs::read_to_string(again.ca_cert()).expect("ca.pem"), pem);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |path: &Path| fs::metadata(path).expect("stat").permissions().mode() & 0o777;
            assert_eq!(mode(&dir.join(CA_KEY_FILE)), 0o600);
            assert_eq!(mode(&dir), 0o700);
        }
        fs::write(dir.join(CA_KEY_FILE), "not a key").expect("spoil the key");
        let refused = LocalCa::load_or_create(&dir).expect_err("a bad key is refused");
        assert!(refused.to_string().contains(CA_KEY_FILE), "{refused}");
        fs::remove_dir_all(&dir).expect("clean up");
    }
}
