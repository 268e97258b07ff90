//! HTTPS (`--https`): a local certificate authority kept in a data folder, a certificate for
//! `localhost`, `127.0.0.1` and `[::1]` signed by it at every start, and a listener that serves
//! TLS with it.
//!
//! The CA is created on first use and kept (its key readable by its owner only) so that trusting
//! it once lasts: MSAL and the other Entra client libraries refuse an `http` authority, and a
//! developer points them (or the system) at `ca.pem`. Its key never leaves the data folder, which
//! is never the repository's. The CA is name-constrained to the loopback names it serves, so even
//! a trusted CA whose key leaked cannot vouch for any other site.

use std::{
    fs,
    io::{self, Write},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use axum::serve::Listener;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints,
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
/// The names the server certificate holds: the CA may vouch for these only.
const SERVER_DNS_NAME: &str = "localhost";
const SERVER_IPS: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::LOCALHOST),
    IpAddr::V6(Ipv6Addr::LOCALHOST),
];
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
    #[error(
        "the CA key {path} can be read by other users (mode {mode:o}): run `chmod 600 {path}`, or delete its folder for a new CA"
    )]
    KeyExposed { path: String, mode: u32 },
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
            let metadata = fs::metadata(&key_path).map_err(io_error(&key_path))?;
            refuse_exposed_key(&key_path, &metadata)?;
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
///
/// Name constraints (RFC 5280 section 4.2.1.10, honoured by OpenSSL, rustls, Go, browsers) limit
/// it to `localhost` and the loopback addresses: the README tells developers to trust it
/// system-wide, and a CA that could sign for any site would make its key a master key.
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.distinguished_name.push(DnType::CommonName, CA_NAME);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let exact = |ip: IpAddr| CidrSubnet::from_addr_prefix(ip, if ip.is_ipv4() { 32 } else { 128 });
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: std::iter::once(GeneralSubtree::DnsName(SERVER_DNS_NAME.to_owned()))
            .chain(SERVER_IPS.map(|ip| GeneralSubtree::IpAddress(exact(ip))))
            .collect(),
        excluded_subtrees: Vec::new(),
    });
    params
}

fn server_config(issuer: &Issuer<'_, KeyPair>) -> Result<Arc<ServerConfig>, TlsError> {
    let names = std::iter::once(SERVER_DNS_NAME.to_owned())
        .chain(SERVER_IPS.map(|ip| ip.to_string()))
        .collect();
    server_config_for(issuer, names)
}

/// A server certificate for `names`, signed by the CA, and the TLS configuration serving it.
fn server_config_for(
    issuer: &Issuer<'_, KeyPair>,
    names: Vec<String>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let mut params = CertificateParams::new(names)?;
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

/// A file readable by its owner only where the platform has such modes, even if it existed
/// before with a wider mode (the mode given to `open` applies to new files only).
fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    #[cfg(unix)]
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(contents)
}

/// Refuses a CA key that other users can read, as `ssh` refuses such a private key: whoever reads
/// it can sign certificates the developer's machine trusts. Fixing the mode is left to the owner,
/// who should also ask how it got that way.
fn refuse_exposed_key(path: &Path, metadata: &fs::Metadata) -> Result<(), TlsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(TlsError::KeyExposed {
                path: path.display().to_string(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (path, metadata);
    Ok(())
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

    #[cfg(unix)]
    #[test]
    fn a_ca_key_other_users_can_read_is_refused_and_a_new_one_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("dev-identity-ca-mode-{}", std::process::id()));
        LocalCa::load_or_create(&dir).expect("created");
        let key = dir.join(CA_KEY_FILE);
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).expect("chmod");
        let refused = LocalCa::load_or_create(&dir).expect_err("an exposed key is refused");
        assert!(
            matches!(refused, TlsError::KeyExposed { mode: 0o644, .. }),
            "{refused}"
        );
        assert!(refused.to_string().contains("chmod 600"), "{refused}");

        // Without its certificate the CA is made anew, and the key file it reuses is narrowed.
        fs::remove_file(dir.join(CA_CERT_FILE)).expect("remove ca.pem");
        assert!(LocalCa::load_or_create(&dir).expect("made anew").created());
        let mode = fs::metadata(&key).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::remove_dir_all(&dir).expect("clean up");
    }

    /// Serves `config` on a free loopback port and GETs `https://{name}:{port}/` with a client
    /// that trusts the CA in `ca_pem` only and resolves `name` to that port.
    async fn fetch_through(
        config: Arc<ServerConfig>,
        ca_pem: &[u8],
        name: &str,
    ) -> reqwest::Result<()> {
        let tcp = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind");
        let ca = LocalCa {
            ca_cert: PathBuf::new(),
            created: false,
            server: config,
        };
        let listener = ca.listener(tcp).expect("listener");
        let addr = listener.local_addr;
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let client = reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(ca_pem).expect("PEM")])
            .resolve(name, addr)
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let result = client
            .get(format!("https://{name}:{}/", addr.port()))
            .send()
            .await
            .map(drop);
        server.abort();
        result
    }

    #[tokio::test]
    async fn the_ca_vouches_for_the_loopback_names_only() {
        let dir =
            std::env::temp_dir().join(format!("dev-identity-ca-names-{}", std::process::id()));
        let ca = LocalCa::load_or_create(&dir).expect("created");
        let ca_pem = fs::read(ca.ca_cert()).expect("ca.pem");
        fetch_through(Arc::clone(&ca.server), &ca_pem, "localhost")
            .await
            .expect("the server certificate is trusted");

        // The same CA's key signs a certificate for another site: clients refuse it.
        let key = KeyPair::from_pem(&fs::read_to_string(dir.join(CA_KEY_FILE)).expect("key"))
            .expect("PEM key");
        let issuer = Issuer::new(ca_params(), key);
        let other =
            server_config_for(&issuer, vec!["login.example.com".to_owned()]).expect("signed");
        let refused = fetch_through(other, &ca_pem, "login.example.com")
            .await
            .expect_err("outside the CA's names");
        let chain = format!("{:?}", error_chain(&refused));
        assert!(chain.contains("NameConstraint"), "{chain}");
        fs::remove_dir_all(&dir).expect("clean up");
    }

    /// The error and its sources, for a message that names the TLS failure.
    fn error_chain(error: &dyn std::error::Error) -> Vec<String> {
        std::iter::successors(Some(error), |error| error.source())
            .map(ToString::to_string)
            .collect()
    }
}
