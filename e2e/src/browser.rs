//! Debian's Chromium, headless, driven through chromedriver: one chromedriver per run, one browser
//! (a fresh profile, so no cookies or storage) per [`Browser`].
//!
//! Every wait polls with a deadline; each state a wait finds is audited with axe-core (see
//! [`crate::axe`]) and a violation fails the wait; the console is read after each step and a
//! Content-Security-Policy violation fails it; a failing step leaves a screenshot and the console
//! log in the artefacts folder.

use std::{
    collections::{BTreeSet, HashSet},
    fmt::Write as _,
    future::Future,
    hash::{DefaultHasher, Hash, Hasher},
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use fantoccini::{
    Client, ClientBuilder, Locator, elements::Element, wd::WebDriverCompatibleCommand,
};
use hyper_util::client::legacy::connect::HttpConnector;
use serde::Deserialize;
use serde_json::{Value, json};
use tempfile::TempDir;
use url::Url;

use crate::{Context, Failure, Outcome, axe, axe::Axe, ensure, group::ProcessGroup};

/// Debian's packages `chromium` and `chromium-driver` install these.
pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The longest any wait for the page lasts: generous, because the machine may be busy building.
pub const WAIT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);
/// How long chromedriver may take to listen.
const DRIVER_START: Duration = Duration::from_secs(20);
/// Longest page load and script run, enforced by chromedriver itself.
const PAGE_LOAD_MS: u64 = 30_000;
const SCRIPT_MS: u64 = 10_000;

/// A chromedriver process in its own process group, stopped with every browser it started when
/// dropped.
#[derive(Debug)]
pub struct ChromeDriver {
    _process: ProcessGroup,
    url: String,
    /// Injected into every page a browser audits.
    axe: Axe,
}

impl ChromeDriver {
    /// Starts chromedriver on a loopback port of its choosing and waits until it says which.
    pub async fn start() -> Outcome<Self> {
        let axe = Axe::load(&crate::audits_dir())?;
        let mut process = ProcessGroup::spawn(
            Command::new(CHROMEDRIVER)
                // Port 0: chromedriver picks a free one and prints it, so no other process can
                // take it between our choice and its bind (and we can never talk to someone else's
                // driver).
                .arg("--port=0")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        )
        .context(format!("cannot start {CHROMEDRIVER}"))?;
        let stdout = process.child().stdout.take();
        // Dropped from here on, it stops chromedriver whatever happens below.
        let mut driver = Self {
            _process: process,
            url: String::new(),
            axe,
        };
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        if let Some(stdout) = stdout {
            // Reads until chromedriver exits: a full pipe would block it.
            std::thread::spawn(move || {
                let mut port_tx = Some(port_tx);
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Some(port) = started_on_port(&line)
                        && let Some(tx) = port_tx.take()
                    {
                        let _ = tx.send(port);
                    }
                }
            });
        }
        let port = tokio::time::timeout(DRIVER_START, port_rx)
            .await
            .map_err(|_| {
                Failure::new(format!(
                    "{CHROMEDRIVER} did not start within {DRIVER_START:?}"
                ))
            })?
            .map_err(|_| Failure::new(format!("{CHROMEDRIVER} exited at start")))?;
        driver.url = format!("http://127.0.0.1:{port}/");
        Ok(driver)
    }

    /// A new headless Chromium with a fresh profile: a new browser context, signed out of
    /// everything. `origin` is the site that relative paths open.
    pub async fn open(&self, name: &str, origin: &str, artefacts: &Path) -> Outcome<Browser> {
        let profile = tempfile::Builder::new().prefix("e2e-chromium-").tempdir()?;
        let capabilities = serde_json::from_value(json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
            "timeouts": { "pageLoad": PAGE_LOAD_MS, "script": SCRIPT_MS, "implicit": 0 },
        }))?;
        let client = tokio::time::timeout(
            WAIT,
            ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities)
                .connect(&self.url),
        )
        .await
        .context(format!("starting Chromium for {name}"))?
        .context(format!("starting Chromium for {name}"))?;
        Ok(Browser {
            name: name.to_owned(),
            client: Some(client),
            origin: Url::parse(origin)?,
            artefacts: artefacts.to_owned(),
            console: String::new(),
            axe: self.axe.clone(),
            audited: Mutex::default(),
            _profile: profile,
        })
    }
}

/// The port in chromedriver's "ChromeDriver was started successfully on port 39551." line.
fn started_on_port(line: &str) -> Option<u16> {
    line.split_once("started successfully on port ")?
        .1
        .trim_end()
        .trim_end_matches('.')
        .parse()
        .ok()
}

/// chromedriver's log endpoint: the browser console since the last read (`goog:loggingPrefs`).
#[derive(Debug)]
struct ReadConsole;

impl WebDriverCompatibleCommand for ReadConsole {
    fn endpoint(&self, base_url: &Url, session_id: Option<&str>) -> Result<Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

#[derive(Debug, Deserialize)]
struct ConsoleEntry {
    level: String,
    message: String,
}

/// Whether a console message reports a Content-Security-Policy violation (Chromium writes
/// "... violates the following Content Security Policy directive ...").
pub fn is_csp_violation(message: &str) -> bool {
    message.contains("Content Security Policy")
}

/// One browser context, with the console log it has written so far.
#[derive(Debug)]
pub struct Browser {
    name: String,
    /// `None` once closed.
    client: Option<Client>,
    origin: Url,
    artefacts: PathBuf,
    console: String,
    axe: Axe,
    /// Fingerprints (address and DOM) of the states axe-core found nothing in, so a state seen
    /// again is not audited again, and the time the audits took.
    audited: Mutex<Audited>,
    /// Removed when the browser is dropped.
    _profile: TempDir,
}

impl Browser {
    fn client(&self) -> &Client {
        self.client
            .as_ref()
            .expect("the browser is open until close() consumes it")
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Opens `path` on the site (a full page load).
    pub async fn open(&self, path: &str) -> Outcome {
        let url = self.origin.join(path)?;
        self.client()
            .goto(url.as_str())
            .await
            .context(format!("opening {url}"))
    }

    pub async fn reload(&self) -> Outcome {
        Ok(self.client().refresh().await?)
    }

    pub async fn back(&self) -> Outcome {
        Ok(self.client().back().await?)
    }

    pub async fn url(&self) -> Outcome<Url> {
        Ok(self.client().current_url().await?)
    }

    /// Resizes the window so that the page's viewport is `width`×`height` CSS pixels (a phone is
    /// 390×844), whatever the window's frame takes of it.
    pub async fn set_viewport(&self, width: u32, height: u32) -> Outcome {
        self.client().set_window_size(width, height).await?;
        let inner = self
            .run("return [window.innerWidth, window.innerHeight]", vec![])
            .await?;
        let frame = |wanted: u32, got: Option<u64>| {
            wanted
                + wanted.saturating_sub(got.and_then(|g| u32::try_from(g).ok()).unwrap_or(wanted))
        };
        let (outer_width, outer_height) = (
            frame(width, inner[0].as_u64()),
            frame(height, inner[1].as_u64()),
        );
        if (outer_width, outer_height) != (width, height) {
            self.client()
                .set_window_size(outer_width, outer_height)
                .await?;
        }
        Ok(())
    }

    /// Runs `script` in the page; `arguments[0..]` are `args`.
    pub async fn run(&self, script: &str, args: Vec<Value>) -> Outcome<Value> {
        Ok(self.client().execute(script, args).await?)
    }

    /// The page's visible text.
    pub async fn text(&self) -> Outcome<String> {
        let text = self
            .run(
                "return document.body ? document.body.innerText : ''",
                vec![],
            )
            .await?;
        Ok(text.as_str().unwrap_or_default().to_owned())
    }

    pub async fn find_all(&self, xpath: &str) -> Outcome<Vec<Element>> {
        Ok(self.client().find_all(Locator::XPath(xpath)).await?)
    }

    pub async fn exists(&self, xpath: &str) -> Outcome<bool> {
        Ok(!self.find_all(xpath).await?.is_empty())
    }

    /// Polls `probe` until it yields a value, for at most [`WAIT`], then audits the page it found
    /// with axe-core; the failure names `what` and shows where the browser was and what it
    /// showed, or what axe-core found.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, probe: F) -> Outcome<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Outcome<Option<T>>>,
    {
        let found = self.poll(what, probe).await?;
        self.check_accessibility()
            .await
            .context(format!("{}: {what}", self.name))?;
        Ok(found)
    }

    /// [`Browser::wait_for`] without the audit.
    async fn poll<T, F, Fut>(&self, what: &str, mut probe: F) -> Outcome<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Outcome<Option<T>>>,
    {
        let deadline = Instant::now() + WAIT;
        let mut last_error = None;
        loop {
            match probe().await {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(error) => last_error = Some(error),
            }
            if Instant::now() >= deadline {
                let url = self
                    .url()
                    .await
                    .map_or_else(|e| e.to_string(), String::from);
                let text = self.text().await.unwrap_or_default();
                let mut message = format!("{}: {what}: not after {WAIT:?} at {url}", self.name);
                if let Some(error) = last_error {
                    let _ = write!(message, " (last error: {error})");
                }
                let _ = write!(message, "\n--- page text ---\n{}", excerpt(&text));
                return Err(Failure::new(message));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// The first element matching `xpath`, once there is one.
    pub async fn wait_for_element(&self, what: &str, xpath: &str) -> Outcome<Element> {
        self.wait_for(what, || async {
            Ok(self.find_all(xpath).await?.into_iter().next())
        })
        .await
    }

    /// Waits until the page shows `text`.
    pub async fn wait_for_text(&self, text: &str) -> Outcome {
        self.wait_for(&format!("the text {text:?}"), || async {
            Ok(self.text().await?.contains(text).then_some(()))
        })
        .await
    }

    /// Waits until the browser is at `path` on the site, the app having handled the address.
    /// Not audited: the address can change before the page it leads to is drawn; the wait for
    /// what the page shows audits it.
    pub async fn wait_for_path(&self, path: &str) -> Outcome {
        self.poll(&format!("the address {path}"), || async {
            let url = self.url().await?;
            Ok((url.origin() == self.origin.origin()
                && url.path() == path
                && url.fragment().is_none())
            .then_some(()))
        })
        .await
    }

    /// Clicks the first button with this visible text or accessible name (`aria-label`).
    pub async fn click_button(&self, name: &str) -> Outcome {
        let xpath = button(name);
        let button = self
            .wait_for_element(&format!("a {name:?} button"), &xpath)
            .await?;
        button.click().await.context(format!("clicking {name:?}"))
    }

    /// Runs axe-core on the page as it is now, unless this address already showed this very DOM;
    /// fails on any violation with a report of each.
    pub async fn check_accessibility(&self) -> Outcome {
        let state = self
            .run(
                "return [location.href, document.documentElement.outerHTML, \
                 typeof window.axe === 'object']",
                vec![],
            )
            .await?;
        let (Some(url), Some(dom), Some(injected)) =
            (state[0].as_str(), state[1].as_str(), state[2].as_bool())
        else {
            return Err(Failure::new(format!(
                "the page's address and DOM, not {state}"
            )));
        };
        let mut hasher = DefaultHasher::new();
        (url, dom).hash(&mut hasher);
        let fingerprint = hasher.finish();
        if self.audited().states.contains(&fingerprint) {
            return Ok(());
        }
        let started = Instant::now();
        if !injected {
            let defined = self
                .run(&self.axe.injection(), vec![])
                .await
                .context("injecting axe-core")?;
            ensure!(
                defined == json!(true),
                "axe-core did not load in the page at {url}"
            );
        }
        let answer = self
            .client()
            .execute_async(axe::RUN, vec![])
            .await
            .context(format!("running axe-core at {url}"))?;
        axe::verdict(url, answer)?;
        let mut audited = self.audited();
        audited.states.insert(fingerprint);
        audited.took += started.elapsed();
        // Without the query: it carries the authorization code on the way back from sign-in.
        audited
            .pages
            .insert(url.split(['?', '#']).next().unwrap_or(url).to_owned());
        Ok(())
    }

    fn audited(&self) -> std::sync::MutexGuard<'_, Audited> {
        // A panic while the set was held cannot have left it inconsistent: it only grows.
        self.audited
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A `sessionStorage` entry of this tab.
    pub async fn session_item(&self, key: &str) -> Outcome<Option<String>> {
        let value = self
            .run(
                "return sessionStorage.getItem(arguments[0])",
                vec![json!(key)],
            )
            .await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// Reads the console since the last call; fails on a Content-Security-Policy violation.
    pub async fn check_console(&mut self) -> Outcome {
        let entries = self.client().issue_cmd(ReadConsole).await?;
        let entries: Vec<ConsoleEntry> =
            serde_json::from_value(entries).context("chromedriver's console log")?;
        let mut violations = Vec::new();
        for entry in entries {
            let message = redact(&entry.message);
            let _ = writeln!(self.console, "{} {message}", entry.level);
            if is_csp_violation(&message) {
                violations.push(message);
            }
        }
        ensure!(
            violations.is_empty(),
            "{}: Content-Security-Policy violations in the browser console:\n{}",
            self.name,
            violations.join("\n")
        );
        Ok(())
    }

    /// Saves what the browser shows as `{artefacts}/{file}.png`.
    pub async fn screenshot(&self, file: &str) -> Outcome<PathBuf> {
        let png = self.client().screenshot().await?;
        std::fs::create_dir_all(&self.artefacts)?;
        let path = self.artefacts.join(format!("{file}.png"));
        std::fs::write(&path, png).context(format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// After a failed step: a screenshot and the console log, as far as the browser still answers.
    pub async fn keep_evidence(&mut self, file: &str) -> Vec<PathBuf> {
        let mut kept = Vec::new();
        if let Ok(Ok(path)) = tokio::time::timeout(WAIT, self.screenshot(file)).await {
            kept.push(path);
        }
        let _ = tokio::time::timeout(WAIT, self.check_console()).await;
        let log = self.artefacts.join(format!("{file}.console.log"));
        if std::fs::create_dir_all(&self.artefacts).is_ok()
            && std::fs::write(&log, &self.console).is_ok()
        {
            kept.push(log);
        }
        kept
    }

    /// Ends the session: chromedriver closes the browser and waits for it. Says how many states
    /// axe-core audited, and in how long.
    pub async fn close(mut self) -> Outcome {
        let summary = {
            let audited = self.audited();
            format!(
                "no violation in {} states of {} in the {}, audited in {:.1} s",
                audited.states.len(),
                audited
                    .pages
                    .iter()
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", "),
                self.name,
                audited.took.as_secs_f64()
            )
        };
        eprintln!("e2e: axe-core: {summary}");
        if let Some(client) = self.client.take() {
            tokio::time::timeout(WAIT, client.close())
                .await
                .context(format!("closing {}", self.name))??;
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Audited {
    states: HashSet<u64>,
    /// Their addresses.
    pages: BTreeSet<String>,
    took: Duration,
}

/// An XPath string literal for any text (XPath 1.0 has no escapes).
pub fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        format!("'{text}'")
    } else if !text.contains('"') {
        format!("\"{text}\"")
    } else {
        let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// A button by its visible text or `aria-label`.
pub fn button(name: &str) -> String {
    let name = xpath_literal(name);
    format!("//button[normalize-space(.)={name} or @aria-label={name}]")
}

/// The console quotes page addresses, and the one the provider sends the browser back to carries
/// the authorization code: values of OAuth parameters are blanked before they are kept anywhere.
fn redact(message: &str) -> String {
    const SECRETS: [&str; 5] = [
        "code=",
        "state=",
        "access_token=",
        "refresh_token=",
        "id_token=",
    ];
    let mut redacted = String::with_capacity(message.len());
    let mut rest = message;
    while let Some((at, key)) = SECRETS
        .iter()
        .filter_map(|key| rest.find(key).map(|at| (at, *key)))
        .min()
    {
        let value_start = at + key.len();
        redacted.push_str(&rest[..value_start]);
        redacted.push_str("[redacted]");
        let value_len = rest[value_start..]
            .find(|c: char| c == '&' || c == '#' || c == '"' || c == '\'' || c.is_whitespace())
            .unwrap_or(rest.len() - value_start);
        rest = &rest[value_start + value_len..];
    }
    redacted.push_str(rest);
    redacted
}

/// The start of a long text, for failure messages.
fn excerpt(text: &str) -> &str {
    const MAX: usize = 1500;
    match text.char_indices().nth(MAX) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xpath_literals_quote_any_text() {
        assert_eq!(xpath_literal("Add"), "'Add'");
        assert_eq!(xpath_literal("Editor's task"), "\"Editor's task\"");
        assert_eq!(xpath_literal(r#"a'b"c"#), r#"concat('a', "'", 'b"c')"#);
    }

    #[test]
    fn chromedrivers_port_is_read_from_its_banner() {
        assert_eq!(
            started_on_port("ChromeDriver was started successfully on port 39551."),
            Some(39551)
        );
        assert_eq!(started_on_port("Only local connections are allowed."), None);
    }

    #[test]
    fn oauth_values_are_redacted_from_console_lines() {
        assert_eq!(
            redact("WARNING http://127.0.0.1:1/#code=abc-_1&state=xyz 0 The `integrity` attribute"),
            "WARNING http://127.0.0.1:1/#code=[redacted]&state=[redacted] 0 The `integrity` attribute"
        );
        assert_eq!(redact("refresh_token=r"), "refresh_token=[redacted]");
        assert_eq!(redact("nothing secret"), "nothing secret");
    }

    #[test]
    fn csp_violations_are_recognised_in_chromiums_words() {
        assert!(is_csp_violation(
            "security 2 Connecting to 'http://127.0.0.1:1/x' violates the following Content \
             Security Policy directive: \"connect-src 'self'\". The action has been blocked."
        ));
        assert!(!is_csp_violation(
            "http://127.0.0.1:1/api/me - Failed to load resource: net::ERR_CONNECTION_REFUSED"
        ));
    }
}
