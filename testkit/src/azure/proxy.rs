//! An HTTPS proxy (HTTP `CONNECT`, RFC 9110 §9.3.6) that tunnels only the routes it was given.
//! The API's HTTP client honours `HTTPS_PROXY` like any production client behind a corporate
//! proxy, so pointing it here sends `{VAULT_HOST}:443` to the stand-in vault: TLS, certificate
//! checks and the host name stay exactly as in Azure, and nothing else leaves the machine.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};

/// Largest request head accepted.
const MAX_HEAD: usize = 8 * 1024;

/// The proxy on `127.0.0.1:<free port>`.
#[derive(Debug, Clone)]
pub struct ConnectProxy {
    url: String,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl ConnectProxy {
    /// Starts the proxy on the current Tokio runtime: `CONNECT host:port` for a route in
    /// `routes` is tunnelled to its address, anything else refused with 403.
    pub async fn start(routes: &[(&str, SocketAddr)]) -> Self {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .expect("bind a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let routes: Arc<HashMap<String, SocketAddr>> = Arc::new(
            routes
                .iter()
                .map(|(target, addr)| ((*target).to_owned(), *addr))
                .collect(),
        );
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let seen = tunnels.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                tokio::spawn(tunnel(client, routes.clone(), seen.clone()));
            }
        });
        Self { url, tunnels }
    }

    /// `HTTPS_PROXY` for the API.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The `CONNECT` targets requested so far, tunnelled or not.
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

async fn tunnel(
    mut client: TcpStream,
    routes: Arc<HashMap<String, SocketAddr>>,
    seen: Arc<Mutex<Vec<String>>>,
) {
    let Ok(Some((target, rest))) =
        tokio::time::timeout(Duration::from_secs(5), read_connect(&mut client)).await
    else {
        let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        return;
    };
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(target.clone());
    let upstream = match routes.get(&target) {
        Some(addr) => TcpStream::connect(addr).await.ok(),
        None => None,
    };
    let Some(mut upstream) = upstream else {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
        return;
    };
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await
        .is_err()
        || upstream.write_all(&rest).await.is_err()
    {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// Reads a request head; `Some((target, bytes after the head))` for `CONNECT target HTTP/1.x`.
async fn read_connect(client: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let end = loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break end;
        }
        if buf.len() > MAX_HEAD {
            return None;
        }
        let mut chunk = [0u8; 1024];
        let read = client.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..read]);
    };
    let head = std::str::from_utf8(&buf[..end]).ok()?;
    let mut request_line = head.lines().next()?.split(' ');
    let (Some("CONNECT"), Some(target), Some(version)) = (
        request_line.next(),
        request_line.next(),
        request_line.next(),
    ) else {
        return None;
    };
    version
        .starts_with("HTTP/1.")
        .then(|| (target.to_owned(), buf[end + 4..].to_vec()))
}
