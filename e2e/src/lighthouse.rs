//! Lighthouse on the SPA: `audits/lighthouse.mjs` measures (Node, with Lighthouse and
//! puppeteer-core as `audits/package-lock.json` pins them, on Debian's Chromium); this module says
//! what to audit, runs the driver with a deadline, and judges the figures against the floors.
//!
//! An audit that falls short is run again, up to [`ATTEMPTS`] times, and passes if one attempt
//! does: on a busy machine one slow run (or a DevTools call timing out) says little about the page,
//! whereas a page that really got slower, or an accessibility, best-practice or SEO fault, fails
//! every attempt.

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    io::{Read, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread::JoinHandle,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use crate::{CHROMIUM, Context, Failure, Outcome, audits_dir, group::ProcessGroup};

/// The driver, in [`audits_dir`].
const DRIVER: &str = "lighthouse.mjs";
/// Lighthouse's own check of its packages, in [`audits_dir`].
const LIGHTHOUSE_PACKAGE: &str = "node_modules/lighthouse/package.json";
/// The oldest Node that Lighthouse 12 supports (its `engines`).
const NODE_MIN: (u32, u32) = (18, 16);
/// Each audit takes 15 to 60 s on a 2-core machine, more when it is busy.
const PER_AUDIT: Duration = Duration::from_secs(150);
/// Runs of an audit, at most, before it fails.
pub const ATTEMPTS: u32 = 3;
const POLL: Duration = Duration::from_millis(200);

/// The categories judged, as Lighthouse names them.
pub const CATEGORIES: [&str; 4] = ["performance", "accessibility", "best-practices", "seo"];

/// Lighthouse's two device presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Lighthouse's default: a mid-range phone on a slow 4G network, simulated.
    Mobile,
    /// Lighthouse's `desktopConfig`: a desktop screen on a fast connection.
    Desktop,
}

/// One page to audit with one preset. `steps` (clicks, each waited for) run in the tab before
/// Lighthouse loads `path` there, until `ready` shows; `ready` must show again after the audit.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub name: String,
    pub preset: Preset,
    pub path: String,
    pub steps: Vec<Click>,
    pub ready: String,
}

/// A click on the element an XPath finds, once it is there.
#[derive(Debug, Clone, Serialize)]
pub struct Click {
    pub click: String,
}

#[derive(Debug, Serialize)]
struct Plan<'a> {
    chromium: &'a str,
    origin: &'a str,
    reports: &'a Path,
    audits: Vec<Attempt<'a>>,
}

/// An audit and which attempt it is (the driver names the report after both).
#[derive(Debug, Serialize)]
struct Attempt<'a> {
    #[serde(flatten)]
    audit: &'a Audit,
    attempt: u32,
}

/// What Lighthouse measured for one [`Audit`]; when the attempt failed before Lighthouse could
/// report (a sign-in that timed out), only the error and what identifies the audit.
#[derive(Debug, Clone, Deserialize)]
pub struct Measured {
    pub name: String,
    pub preset: Preset,
    /// From 1.
    pub attempt: u32,
    pub url: String,
    /// Whether the page audited showed `ready` at `path` afterwards.
    pub shown: bool,
    pub runtime_error: Option<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
    /// Lighthouse's version and the browser's user agent.
    #[serde(default)]
    pub lighthouse: String,
    #[serde(default)]
    pub browser: String,
    /// Lighthouse's measure of the machine's speed at the time (higher is faster).
    pub benchmark_index: Option<f64>,
    /// By category, 0 to 1; `None` when Lighthouse could not score it.
    #[serde(default)]
    pub scores: BTreeMap<String, Option<f64>>,
    #[serde(default)]
    pub metrics: Metrics,
    /// Every audit that cost a category points.
    #[serde(default)]
    pub shortfalls: Vec<Shortfall>,
    /// The HTML report.
    pub report: Option<PathBuf>,
}

/// Milliseconds, but CLS (a unitless score).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Metrics {
    pub fcp: Option<f64>,
    pub lcp: Option<f64>,
    pub tbt: Option<f64>,
    pub cls: Option<f64>,
    pub si: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Shortfall {
    pub category: String,
    pub id: String,
    pub title: String,
    pub score: f64,
    pub display: String,
}

impl Measured {
    /// A category's score out of 100, as Lighthouse's report rounds it.
    pub fn score(&self, category: &str) -> Option<u8> {
        let score = (*self.scores.get(category)?)?;
        // In 0..=1 by Lighthouse's definition; clamped so a bad answer cannot wrap.
        Some((score.clamp(0.0, 1.0) * 100.0).round() as u8)
    }
}

/// The least score each category must reach: 100 for accessibility, best practices and SEO,
/// `performance` (per preset) for performance, which depends on how busy the machine is.
#[derive(Debug, Clone, Copy)]
pub struct Floors {
    pub mobile_performance: u8,
    pub desktop_performance: u8,
}

impl Floors {
    fn of(&self, preset: Preset, category: &str) -> u8 {
        match (category, preset) {
            ("performance", Preset::Mobile) => self.mobile_performance,
            ("performance", Preset::Desktop) => self.desktop_performance,
            _ => 100,
        }
    }
}

/// What the Lighthouse audits need beyond [`crate::missing_prerequisites`], one line each.
pub fn missing_prerequisites() -> Vec<String> {
    let mut missing = Vec::new();
    match node_version() {
        Some(version) if version >= NODE_MIN => {}
        found => missing.push(format!(
            "Node.js {}.{} or later is needed on PATH (found: {}): install it, e.g. \
             `apt-get install nodejs npm`",
            NODE_MIN.0,
            NODE_MIN.1,
            found.map_or("none".to_owned(), |(major, minor)| format!(
                "{major}.{minor}"
            ))
        )),
    }
    let package = audits_dir().join(LIGHTHOUSE_PACKAGE);
    if !package.is_file() {
        missing.push(crate::npm_packages_missing(&package));
    }
    missing
}

/// `node --version`'s major and minor.
fn node_version() -> Option<(u32, u32)> {
    let output = Command::new("node").arg("--version").output().ok()?;
    parse_node_version(&String::from_utf8_lossy(&output.stdout))
}

fn parse_node_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.trim().strip_prefix('v')?.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// Runs the audits on the site at `origin`, each again while it falls short of `floors` (up to
/// [`ATTEMPTS`] runs), writing the HTML reports into `reports`; every attempt's figures, in the
/// order they were measured.
pub async fn measure(
    origin: &str,
    reports: &Path,
    audits: &[Audit],
    floors: Floors,
) -> Outcome<Vec<Measured>> {
    let mut measured: Vec<Measured> = Vec::new();
    let mut pending: Vec<&Audit> = audits.iter().collect();
    for attempt in 1..=ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        let round = run(origin, reports, &pending, attempt).await?;
        pending.retain(|audit| {
            round
                .iter()
                .find(|m| m.name == audit.name && m.preset == audit.preset)
                .is_none_or(|m| !problems(m, floors).is_empty())
        });
        measured.extend(round);
    }
    Ok(measured)
}

/// One run of the driver: these audits, in order, in one Chromium.
async fn run(
    origin: &str,
    reports: &Path,
    audits: &[&Audit],
    attempt: u32,
) -> Outcome<Vec<Measured>> {
    let plan = serde_json::to_vec(&Plan {
        chromium: CHROMIUM,
        origin,
        reports,
        audits: audits
            .iter()
            .map(|&audit| Attempt { audit, attempt })
            .collect(),
    })?;
    let driver = audits_dir().join(DRIVER);
    let mut process = ProcessGroup::spawn(
        Command::new("node")
            .arg(&driver)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )
    .context(format!("cannot start node {}", driver.display()))?;
    let child = process.child();
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(&plan).context("sending the plan to node")?;
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());

    let limit = PER_AUDIT * u32::try_from(audits.len()).unwrap_or(u32::MAX);
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = process.child().try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            // Dropping the group stops node and its Chromium.
            drop(process);
            return Err(Failure::new(format!(
                "Lighthouse did not finish {} audit(s) within {limit:?}; its output:\n{}",
                audits.len(),
                joined(stderr)
            )));
        }
        tokio::time::sleep(POLL).await;
    };
    let (stdout, stderr) = (joined(stdout), joined(stderr));
    crate::ensure!(
        status.success(),
        "node {} failed ({status}):\n{stderr}",
        driver.display()
    );
    serde_json::from_str(&stdout).context(format!(
        "the figures of node {} (its output: {stderr})",
        driver.display()
    ))
}

/// Reads a pipe to its end on a thread of its own, so a full pipe never blocks node.
fn drain(pipe: Option<impl Read + Send + 'static>) -> Option<JoinHandle<String>> {
    pipe.map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    })
}

fn joined(reader: Option<JoinHandle<String>>) -> String {
    reader
        .and_then(|thread| thread.join().ok())
        .unwrap_or_default()
}

/// One line per audit: the scores and the metrics users feel.
pub fn table(measured: &[Measured]) -> String {
    let mut text = format!(
        "{:<12} {:<8} {:>3} {:>5} {:>5} {:>5} {:>5} {:>8} {:>8} {:>8} {:>6} {:>8}",
        "page", "preset", "run", "perf", "a11y", "bp", "seo", "FCP", "LCP", "TBT", "CLS", "SI"
    );
    for m in measured {
        let score = |category| m.score(category).map_or("-".to_owned(), |s| s.to_string());
        let ms = |value: Option<f64>| {
            value.map_or("-".to_owned(), |v| {
                if v >= 1000.0 {
                    format!("{:.1} s", v / 1000.0)
                } else {
                    format!("{v:.0} ms")
                }
            })
        };
        let _ = write!(
            text,
            "\n{:<12} {:<8} {:>3} {:>5} {:>5} {:>5} {:>5} {:>8} {:>8} {:>8} {:>6} {:>8}",
            m.name,
            format!("{:?}", m.preset).to_lowercase(),
            m.attempt,
            score("performance"),
            score("accessibility"),
            score("best-practices"),
            score("seo"),
            ms(m.metrics.fcp),
            ms(m.metrics.lcp),
            ms(m.metrics.tbt),
            m.metrics.cls.map_or("-".to_owned(), |v| format!("{v:.3}")),
            ms(m.metrics.si),
        );
    }
    text
}

/// Passes when every audit had an attempt that measured the intended page without error, every
/// category at its floor; otherwise says, for each audit that never did, what fell short in each
/// attempt and why (Lighthouse's failing audits), and where the reports are.
pub fn judge(measured: &[Measured], floors: Floors) -> Outcome {
    let mut failed = String::new();
    let mut seen: Vec<(&str, Preset)> = Vec::new();
    for m in measured {
        let audit = (m.name.as_str(), m.preset);
        if seen.contains(&audit) {
            continue;
        }
        seen.push(audit);
        let attempts: Vec<&Measured> = measured
            .iter()
            .filter(|other| (other.name.as_str(), other.preset) == audit)
            .collect();
        if attempts.iter().any(|m| problems(m, floors).is_empty()) {
            continue;
        }
        let _ = write!(
            failed,
            "\n{} ({:?}) at {}, in each of {} attempt(s):",
            m.name,
            m.preset,
            m.url,
            attempts.len()
        );
        for attempt in attempts {
            let _ = write!(
                failed,
                "\n  attempt {} (report {}):",
                attempt.attempt,
                attempt
                    .report
                    .as_ref()
                    .map_or("none".into(), |report| report.display().to_string())
            );
            for problem in problems(attempt, floors) {
                let _ = write!(failed, "\n  - {problem}");
            }
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Failure::new(format!(
            "Lighthouse: below the floors (performance: mobile {}, desktop {}; every other \
             category 100):{failed}",
            floors.mobile_performance, floors.desktop_performance
        )))
    }
}

/// What keeps one attempt from passing: an error, the wrong page, each category below its floor
/// with the audits that cost it points.
fn problems(m: &Measured, floors: Floors) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(error) = &m.runtime_error {
        found.push(format!("Lighthouse could not audit the page: {error}"));
    }
    if !m.shown {
        found.push(
            "the page audited was not the one intended (its element or address differed)"
                .to_owned(),
        );
    }
    for category in CATEGORIES {
        let floor = floors.of(m.preset, category);
        let score = m.score(category);
        if score.is_some_and(|score| score >= floor) {
            continue;
        }
        let mut line = format!(
            "{category} {} < {floor}",
            score.map_or("unscored".to_owned(), |s| s.to_string())
        );
        for shortfall in m.shortfalls.iter().filter(|s| s.category == category) {
            let _ = write!(
                line,
                "\n      {} ({}, score {:.2}{}{})",
                shortfall.title,
                shortfall.id,
                shortfall.score,
                if shortfall.display.is_empty() {
                    ""
                } else {
                    ": "
                },
                shortfall.display
            );
        }
        found.push(line);
    }
    found
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const FLOORS: Floors = Floors {
        mobile_performance: 80,
        desktop_performance: 95,
    };

    /// As the driver writes it.
    fn measured(preset: &str, attempt: u32, performance: f64, accessibility: f64) -> Measured {
        serde_json::from_value(json!({
            "name": "landing",
            "preset": preset,
            "attempt": attempt,
            "url": "http://127.0.0.1:1/",
            "shown": true,
            "runtime_error": null,
            "warnings": [],
            "lighthouse": "12.8.2",
            "browser": "HeadlessChrome",
            "benchmark_index": 1500.5,
            "scores": {
                "performance": performance,
                "accessibility": accessibility,
                "best-practices": 1,
                "seo": 1
            },
            "metrics": { "fcp": 1100.2, "lcp": 2349.9, "tbt": 12.0, "cls": 0.0, "si": null },
            "shortfalls": [{
                "category": "accessibility",
                "id": "color-contrast",
                "title": "Background and foreground colors do not have a sufficient contrast ratio.",
                "score": 0,
                "display": ""
            }, {
                "category": "performance",
                "id": "largest-contentful-paint",
                "title": "Largest Contentful Paint",
                "score": 0.61,
                "display": "2.3 s"
            }],
            "report": format!("/tmp/landing-{preset}-{attempt}.html")
        }))
        .expect("the driver's format")
    }

    #[test]
    fn scores_round_as_the_report_shows_them() {
        let m = measured("mobile", 1, 0.985, 0.994);
        assert_eq!(m.score("performance"), Some(99));
        assert_eq!(m.score("accessibility"), Some(99));
        assert_eq!(m.score("pwa"), None);
    }

    #[test]
    fn passes_at_the_floors() {
        judge(
            &[
                measured("mobile", 1, 0.8, 1.0),
                measured("desktop", 1, 0.95, 1.0),
            ],
            FLOORS,
        )
        .expect("at the floors");
    }

    #[test]
    fn one_passing_attempt_is_enough() {
        judge(
            &[
                measured("mobile", 1, 0.6, 1.0),
                measured("desktop", 1, 1.0, 1.0),
                measured("mobile", 2, 0.85, 1.0),
            ],
            FLOORS,
        )
        .expect("the second attempt passed");
    }

    #[test]
    fn each_attempt_of_a_failed_audit_is_named_with_its_shortfalls_and_report() {
        let failure = judge(
            &[
                measured("mobile", 1, 0.79, 0.96),
                measured("desktop", 1, 1.0, 1.0),
                measured("mobile", 2, 0.9, 0.96),
            ],
            FLOORS,
        )
        .expect_err("below the floors")
        .to_string();
        assert_eq!(
            failure,
            "Lighthouse: below the floors (performance: mobile 80, desktop 95; every other \
             category 100):\n\
             landing (Mobile) at http://127.0.0.1:1/, in each of 2 attempt(s):\n  \
             attempt 1 (report /tmp/landing-mobile-1.html):\n  \
             - performance 79 < 80\n      \
             Largest Contentful Paint (largest-contentful-paint, score 0.61: 2.3 s)\n  \
             - accessibility 96 < 100\n      \
             Background and foreground colors do not have a sufficient contrast ratio. \
             (color-contrast, score 0.00)\n  \
             attempt 2 (report /tmp/landing-mobile-2.html):\n  \
             - accessibility 96 < 100\n      \
             Background and foreground colors do not have a sufficient contrast ratio. \
             (color-contrast, score 0.00)"
        );
    }

    #[test]
    fn the_wrong_page_or_no_score_fails_whatever_the_scores() {
        let mut wrong_page = measured("desktop", 1, 1.0, 1.0);
        wrong_page.shown = false;
        wrong_page.scores.insert("seo".to_owned(), None);
        wrong_page.runtime_error = Some("PROTOCOL_TIMEOUT".to_owned());
        let failure = judge(&[wrong_page], FLOORS)
            .expect_err("not the page")
            .to_string();
        assert!(
            failure.contains("could not audit the page: PROTOCOL_TIMEOUT"),
            "{failure}"
        );
        assert!(failure.contains("not the one intended"), "{failure}");
        assert!(failure.contains("seo unscored < 100"), "{failure}");
    }

    #[test]
    fn an_attempt_that_failed_before_lighthouse_reported_is_a_shortfall() {
        let failed: Measured = serde_json::from_value(json!({
            "name": "dashboard",
            "preset": "mobile",
            "attempt": 1,
            "url": "http://127.0.0.1:1/dashboard",
            "shown": false,
            "runtime_error": "dashboard (mobile): clicking //button: Timed out after waiting 60000ms"
        }))
        .expect("the driver's format for a failed attempt");
        let failure = judge(&[failed], FLOORS)
            .expect_err("no figures")
            .to_string();
        assert!(
            failure.contains(
                "attempt 1 (report none):\n  - Lighthouse could not audit the page: dashboard \
                 (mobile): clicking //button: Timed out after waiting 60000ms"
            ),
            "{failure}"
        );
        assert!(failure.contains("performance unscored < 80"), "{failure}");
    }

    #[test]
    fn the_table_shows_scores_and_metrics() {
        let table = table(&[measured("mobile", 2, 0.98, 1.0)]);
        let row = table.lines().nth(1).expect("a row");
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "landing", "mobile", "2", "98", "100", "100", "100", "1.1", "s", "2.3", "s", "12",
                "ms", "0.000", "-"
            ]
        );
    }

    #[test]
    fn node_versions_parse() {
        assert_eq!(parse_node_version("v20.20.2\n"), Some((20, 20)));
        assert_eq!(parse_node_version("v18.16.0"), Some((18, 16)));
        assert_eq!(parse_node_version("20.1"), None);
        assert!(parse_node_version("v18.15.1").expect("parses") < NODE_MIN);
    }
}
