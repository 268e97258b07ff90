//! `dist/` served as Azure Static Web Apps serves it: `staticwebapp.config.json`'s global and route
//! headers (the Content-Security-Policy among them), its navigation fallback with the excludes, and
//! its MIME types. The SPA therefore runs in the tests under its production policy, and it is
//! served gzip-compressed to a browser that accepts it, as Static Web Apps serves it, so Lighthouse
//! measures the bytes users download.
//!
//! Why not the real emulator (`swa start` from npm `@azure/static-web-apps-cli`): see
//! docs/decisions.md. This server implements exactly the parts of the configuration file the app
//! uses and refuses any other setting by name, so a rule added to the file can never be silently
//! ignored by the tests while Azure applies it.

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    path::Path,
    sync::Arc,
};

use axum::{
    Router,
    body::Body,
    extract::State,
    http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tower_http::compression::CompressionLayer;

use crate::{Context, Failure, Outcome};

/// The Static Web Apps configuration file, as Trunk copies it into `dist/`.
pub const CONFIG_FILE: &str = "staticwebapp.config.json";
/// A release build is a handful of files of at most a few MB; anything far bigger is not `dist/`.
const MAX_FILES: usize = 1000;
const MAX_TOTAL_BYTES: u64 = 64 * 1024 * 1024;

/// The settings of `staticwebapp.config.json` this server implements. Unknown settings
/// (`responseOverrides`, `auth`, a route's `rewrite`, ...) fail the parse with their name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SwaConfig {
    navigation_fallback: Option<NavigationFallback>,
    #[serde(default)]
    routes: Vec<RouteRule>,
    #[serde(default)]
    global_headers: BTreeMap<String, String>,
    /// Extension with its dot (`.wasm`) to content type.
    #[serde(default)]
    mime_types: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct NavigationFallback {
    rewrite: String,
    #[serde(default)]
    exclude: Vec<RoutePattern>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteRule {
    route: RoutePattern,
    /// Override the global headers; an empty value removes the header.
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

/// A route or exclude pattern: an exact path, or a path ending in a wildcard that may be filtered
/// by extension (`/admin*`, `/css/*`, `/*.{js,css}`), the forms Static Web Apps documents.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
enum RoutePattern {
    Exact(String),
    Wildcard {
        prefix: String,
        /// Without the dot; empty: any path under the prefix.
        extensions: Vec<String>,
    },
}

impl TryFrom<String> for RoutePattern {
    type Error = String;

    fn try_from(pattern: String) -> Result<Self, String> {
        let unsupported = || format!("unsupported route pattern {pattern:?}");
        if !pattern.starts_with('/') {
            return Err(unsupported());
        }
        let Some((prefix, rest)) = pattern.split_once('*') else {
            return Ok(Self::Exact(pattern));
        };
        let extensions = match rest.strip_prefix('.') {
            None if rest.is_empty() => Vec::new(),
            None => return Err(unsupported()),
            Some(list) => match list.strip_prefix('{').and_then(|l| l.strip_suffix('}')) {
                Some(alternatives) => alternatives.split(',').map(str::to_owned).collect(),
                None => vec![list.to_owned()],
            },
        };
        let valid =
            |ext: &String| !ext.is_empty() && ext.bytes().all(|b| b.is_ascii_alphanumeric());
        if !extensions.iter().all(valid) {
            return Err(unsupported());
        }
        Ok(Self::Wildcard {
            prefix: prefix.to_owned(),
            extensions,
        })
    }
}

impl RoutePattern {
    fn matches(&self, path: &str) -> bool {
        match self {
            // A rule for a folder's index.html also matches the folder (`/` for `/index.html`).
            Self::Exact(exact) => {
                path == exact
                    || exact.strip_suffix("index.html").is_some_and(|folder| {
                        path == folder || path == folder.trim_end_matches('/')
                    })
            }
            // The wildcard matches any characters, `/` included, as in the Static Web Apps CLI.
            Self::Wildcard { prefix, extensions } => {
                path.strip_prefix(prefix.as_str()).is_some_and(|rest| {
                    extensions.is_empty()
                        || extensions.iter().any(|ext| {
                            rest.strip_suffix(ext.as_str())
                                .is_some_and(|stem| stem.ends_with('.'))
                        })
                })
            }
        }
    }
}

impl SwaConfig {
    pub fn parse(json: &str) -> Outcome<Self> {
        serde_json::from_str(json).context(format!(
            "{CONFIG_FILE} uses something the e2e static server does not implement (extend e2e/src/site.rs)"
        ))
    }

    /// Adds `origin` to the Content-Security-Policy's `connect-src`, as deploy.sh does for the API
    /// (`allow_connect_src` in scripts/lib/spa.sh).
    pub fn allow_connect_src(&mut self, origin: &str) -> Outcome {
        let csp = self
            .global_headers
            .iter_mut()
            .find(|(name, _)| name.eq_ignore_ascii_case("content-security-policy"))
            .map(|(_, value)| value)
            .ok_or_else(|| {
                Failure::new(format!("{CONFIG_FILE} sets no Content-Security-Policy"))
            })?;
        let mut found = false;
        let directives: Vec<String> = csp
            .split(';')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|directive| match directive.strip_prefix("connect-src ") {
                Some(sources) => {
                    found = true;
                    if sources.split_whitespace().any(|s| s == origin) {
                        directive.to_owned()
                    } else {
                        format!("{directive} {origin}")
                    }
                }
                None => directive.to_owned(),
            })
            .collect();
        if !found {
            return Err(Failure::new(format!(
                "{CONFIG_FILE}'s Content-Security-Policy has no connect-src to add {origin} to"
            )));
        }
        *csp = directives.join("; ");
        Ok(())
    }

    /// The global headers, overridden by the first route rule matching `path`.
    fn headers(&self, path: &str) -> Vec<(String, String)> {
        let mut headers: Vec<(String, String)> = self
            .global_headers
            .iter()
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect();
        if let Some(rule) = self.routes.iter().find(|rule| rule.route.matches(path)) {
            for (name, value) in &rule.headers {
                headers.retain(|(existing, _)| !existing.eq_ignore_ascii_case(name));
                if !value.is_empty() {
                    headers.push((name.clone(), value.clone()));
                }
            }
        }
        headers
    }

    /// The file served for a path that matches no file, if the fallback applies to it.
    fn fallback_for(&self, path: &str) -> Option<&str> {
        let fallback = self.navigation_fallback.as_ref()?;
        let excluded = fallback.exclude.iter().any(|pattern| pattern.matches(path));
        (!excluded).then_some(fallback.rewrite.as_str())
    }

    fn content_type(&self, file: &str) -> String {
        let extension = file.rsplit_once('.').map_or("", |(_, ext)| ext);
        if let Some(configured) = self.mime_types.get(&format!(".{extension}")) {
            return configured.clone();
        }
        match extension {
            "html" => "text/html; charset=utf-8",
            "js" | "mjs" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "json" | "map" => "application/json",
            "wasm" => "application/wasm",
            "svg" => "image/svg+xml",
            "png" => "image/png",
            "ico" => "image/x-icon",
            "txt" => "text/plain; charset=utf-8",
            _ => "application/octet-stream",
        }
        .to_owned()
    }
}

/// What the server answers to one request.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The site: every file of `dist/` in memory, and its configuration.
#[derive(Debug, Clone)]
pub struct Site {
    config: SwaConfig,
    /// By URL path (`/index.html`).
    files: HashMap<String, Arc<Vec<u8>>>,
}

impl Site {
    /// Reads `dist/` and its `staticwebapp.config.json`. The configuration file itself is not
    /// served, as on Azure.
    pub fn load(dist: &Path) -> Outcome<Self> {
        let config_path = dist.join(CONFIG_FILE);
        let config = std::fs::read_to_string(&config_path)
            .context(format!("cannot read {}", config_path.display()))?;
        let config = SwaConfig::parse(&config)?;
        let mut files = HashMap::new();
        let mut total = 0;
        read_tree(dist, "", &mut files, &mut total)?;
        files.remove(&format!("/{CONFIG_FILE}"));
        Ok(Self { config, files })
    }

    pub fn config_mut(&mut self) -> &mut SwaConfig {
        &mut self.config
    }

    /// Adds or replaces a file, as deploy.sh writes `dist/config.json` after the build.
    pub fn put(&mut self, path: &str, body: Vec<u8>) {
        self.files.insert(path.to_owned(), Arc::new(body));
    }

    /// Existing files first, then the navigation fallback, else 404; only GET and HEAD.
    pub fn respond(&self, method: &Method, path: &str) -> Reply {
        let mut headers = self.config.headers(path);
        if method != Method::GET && method != Method::HEAD {
            headers.push(("Allow".into(), "GET, HEAD".into()));
            return text(
                StatusCode::METHOD_NOT_ALLOWED,
                headers,
                "Method not allowed",
            );
        }
        let file = if path.ends_with('/') {
            format!("{path}index.html")
        } else {
            path.to_owned()
        };
        let served = match self.files.get(&file) {
            Some(body) => Some((file, body)),
            None => self.config.fallback_for(path).and_then(|rewrite| {
                self.files
                    .get(rewrite)
                    .map(|body| (rewrite.to_owned(), body))
            }),
        };
        match served {
            Some((file, body)) => {
                headers.push(("Content-Type".into(), self.config.content_type(&file)));
                Reply {
                    status: StatusCode::OK,
                    headers,
                    body: body.as_ref().clone(),
                }
            }
            None => text(StatusCode::NOT_FOUND, headers, "Not found"),
        }
    }

    /// Serves on `listener` until the returned handle is dropped. Responses are gzip-compressed
    /// when the request's `Accept-Encoding` allows it (tower-http's default choice of what to
    /// compress: everything but images and bodies under 32 bytes, so HTML, JS, CSS, JSON and
    /// wasm), with `Vary: Accept-Encoding`.
    pub fn serve(self, listener: TcpListener) -> Outcome<RunningSite> {
        let addr = listener.local_addr()?;
        let router = Router::new()
            .fallback(handle)
            .with_state(Arc::new(self))
            .layer(
                // gzip only, whatever other crates enable in tower-http: the encoding assumed here.
                CompressionLayer::new()
                    .gzip(true)
                    .no_br()
                    .no_deflate()
                    .no_zstd(),
            );
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(RunningSite {
            addr,
            _stop: stop,
            task,
        })
    }
}

fn text(status: StatusCode, mut headers: Vec<(String, String)>, body: &str) -> Reply {
    headers.push(("Content-Type".into(), "text/plain; charset=utf-8".into()));
    Reply {
        status,
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn read_tree(
    dir: &Path,
    url_prefix: &str,
    files: &mut HashMap<String, Arc<Vec<u8>>>,
    total: &mut u64,
) -> Outcome {
    for entry in std::fs::read_dir(dir).context(format!("cannot read {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let url = format!("{url_prefix}/{name}");
        let kind = entry.file_type()?;
        if kind.is_dir() {
            read_tree(&entry.path(), &url, files, total)?;
        } else if kind.is_file() {
            *total += entry.metadata()?.len();
            crate::ensure!(
                files.len() < MAX_FILES && *total <= MAX_TOTAL_BYTES,
                "{} holds more than {MAX_FILES} files or {MAX_TOTAL_BYTES} bytes: not a SPA build",
                dir.display()
            );
            files.insert(url, Arc::new(std::fs::read(entry.path())?));
        }
    }
    Ok(())
}

async fn handle(State(site): State<Arc<Site>>, method: Method, uri: Uri) -> Response {
    let reply = site.respond(&method, uri.path());
    let mut response = Response::new(Body::from(reply.body));
    *response.status_mut() = reply.status;
    for (name, value) in reply.headers {
        match (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            (Ok(name), Ok(value)) => {
                response.headers_mut().append(name, value);
            }
            // The configuration was parsed at start; a header Azure would refuse is a test failure.
            _ => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [(header::CONTENT_TYPE, "text/plain")],
                    format!("{CONFIG_FILE}: invalid header {name:?}"),
                )
                    .into_response();
            }
        }
    }
    response
}

/// The site serving on loopback; stops when dropped.
#[derive(Debug)]
pub struct RunningSite {
    addr: SocketAddr,
    /// Dropping it starts the graceful shutdown.
    _stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl RunningSite {
    /// `http://127.0.0.1:{port}`.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningSite {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The repository's own file, so these tests follow it.
    const REPO_CONFIG: &str = include_str!("../../staticwebapp.config.json");

    fn site() -> Site {
        let mut site = Site {
            config: SwaConfig::parse(REPO_CONFIG).expect("the repository's configuration parses"),
            files: HashMap::new(),
        };
        for (path, body) in [
            ("/index.html", "<!doctype html>"),
            ("/boot.js", "import"),
            ("/frontend-1234_bg.wasm", "\0asm"),
        ] {
            site.put(path, body.into());
        }
        site
    }

    fn get(site: &Site, path: &str) -> Reply {
        site.respond(&Method::GET, path)
    }

    #[test]
    fn client_side_routes_get_the_app_with_the_csp() {
        let site = site();
        for path in ["/", "/dashboard", "/some/deep/link"] {
            let reply = get(&site, path);
            assert_eq!(reply.status, StatusCode::OK, "{path}");
            assert_eq!(reply.body, b"<!doctype html>", "{path}");
            assert_eq!(
                reply.header("content-type"),
                Some("text/html; charset=utf-8")
            );
            let csp = reply.header("content-security-policy").expect("CSP");
            assert!(
                csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
                "{csp}"
            );
            assert_eq!(reply.header("x-frame-options"), Some("DENY"));
        }
    }

    #[test]
    fn missing_assets_are_404_not_the_app() {
        let site = site();
        for path in [
            "/config.json",
            "/missing.js",
            "/nested/missing.wasm",
            "/a.map",
        ] {
            assert_eq!(get(&site, path).status, StatusCode::NOT_FOUND, "{path}");
        }
        // A name that merely contains an excluded extension is still a route of the app.
        assert_eq!(get(&site, "/docs.json-viewer").status, StatusCode::OK);
    }

    #[test]
    fn files_get_their_type_and_route_headers() {
        let mut site = site();
        site.put("/config.json", b"{}".to_vec());
        let wasm = get(&site, "/frontend-1234_bg.wasm");
        assert_eq!(wasm.header("content-type"), Some("application/wasm"));
        let config = get(&site, "/config.json");
        assert_eq!(config.header("content-type"), Some("application/json"));
        assert_eq!(config.header("cache-control"), Some("no-store"));
        assert_eq!(
            get(&site, "/boot.js").header("cache-control"),
            Some("no-cache")
        );
        // `/index.html`'s rule covers `/`, the folder it is the index of.
        assert_eq!(get(&site, "/").header("cache-control"), Some("no-cache"));
        assert!(config.header("content-security-policy").is_some());
    }

    #[test]
    fn only_get_and_head() {
        let site = site();
        assert_eq!(site.respond(&Method::HEAD, "/").status, StatusCode::OK);
        let post = site.respond(&Method::POST, "/");
        assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.header("allow"), Some("GET, HEAD"));
    }

    #[test]
    fn connect_src_gains_origins_once_like_deploy_sh() {
        let mut config = SwaConfig::parse(REPO_CONFIG).expect("parses");
        config
            .allow_connect_src("http://127.0.0.1:9000")
            .expect("has connect-src");
        config
            .allow_connect_src("http://127.0.0.1:9000")
            .expect("has connect-src");
        let csp = config.headers("/")[0].1.clone();
        assert!(
            csp.contains("; connect-src 'self' http://127.0.0.1:9000; "),
            "{csp}"
        );
        assert!(csp.starts_with("default-src 'self'; "), "{csp}");
    }

    #[test]
    fn unimplemented_settings_are_refused_by_name() {
        let error = SwaConfig::parse(r#"{"responseOverrides": {"404": {"rewrite": "/404.html"}}}"#)
            .expect_err("not implemented");
        assert!(error.to_string().contains("responseOverrides"), "{error}");
        let error = SwaConfig::parse(r#"{"routes": [{"route": "/old", "redirect": "/new"}]}"#)
            .expect_err("not implemented");
        assert!(error.to_string().contains("redirect"), "{error}");
        let error = SwaConfig::parse(r#"{"routes": [{"route": "/a*/b"}]}"#).expect_err("bad");
        assert!(
            error.to_string().contains("unsupported route pattern"),
            "{error}"
        );
    }

    #[test]
    fn patterns_match_as_documented() {
        let pattern = |p: &str| RoutePattern::try_from(p.to_owned()).expect("valid");
        let images = pattern("/images/*.{png,jpg}");
        assert!(images.matches("/images/logo.png"));
        assert!(images.matches("/images/a/b.jpg"));
        assert!(!images.matches("/images/icon.svg"));
        assert!(!images.matches("/logo.png"));
        let calendar = pattern("/calendar*");
        assert!(calendar.matches("/calendar"));
        assert!(calendar.matches("/calendar/2020"));
        let folder = pattern("/calendar/*");
        assert!(!folder.matches("/calendar"));
        let exact = pattern("/profile/index.html");
        assert!(exact.matches("/profile/index.html"));
        assert!(exact.matches("/profile/"));
        assert!(exact.matches("/profile"));
        assert!(!exact.matches("/profile/x"));
    }

    /// Over HTTP, as a browser asks: gzip when accepted (the same bytes once decompressed, with
    /// the configured headers), identity otherwise, and tiny bodies never.
    #[tokio::test]
    async fn served_gzip_when_accepted() {
        use std::io::Read as _;

        let mut site = site();
        let script = "export function start() { /* the bindings */ }\n".repeat(100);
        site.put("/app.js", script.clone().into_bytes());
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let running = site.serve(listener).expect("serve");
        let client = reqwest::Client::builder()
            .no_gzip()
            .no_proxy()
            .build()
            .expect("client");
        let get = async |path: &str, accept: &str| {
            let response = client
                .get(format!("{}{path}", running.origin()))
                .header("accept-encoding", accept)
                .send()
                .await
                .expect("response");
            let headers = response.headers().clone();
            (headers, response.bytes().await.expect("body"))
        };

        let (headers, body) = get("/app.js", "gzip, deflate, br, zstd").await;
        assert_eq!(headers["content-encoding"], "gzip");
        assert_eq!(headers["vary"], "accept-encoding");
        assert_eq!(headers["content-type"], "text/javascript; charset=utf-8");
        assert!(headers.contains_key("content-security-policy"));
        assert!(body.len() < script.len() / 10, "{} bytes", body.len());
        let mut unpacked = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut unpacked)
            .expect("valid gzip");
        assert_eq!(unpacked, script);

        let (headers, body) = get("/app.js", "identity").await;
        assert!(!headers.contains_key("content-encoding"));
        assert_eq!(body, script.as_bytes());
        // 15 bytes: not worth compressing.
        let (headers, _) = get("/", "gzip").await;
        assert!(!headers.contains_key("content-encoding"));
    }

    #[test]
    fn route_headers_override_and_empty_values_remove() {
        let config = SwaConfig::parse(
            r#"{"globalHeaders": {"X-A": "global", "X-B": "kept"},
                "routes": [{"route": "/a", "headers": {"x-a": "route", "X-B": ""}},
                           {"route": "/a", "headers": {"X-C": "second rule never applies"}}]}"#,
        )
        .expect("parses");
        assert_eq!(
            config.headers("/a"),
            vec![("x-a".to_owned(), "route".to_owned())]
        );
        assert_eq!(config.headers("/b").len(), 2);
    }
}
