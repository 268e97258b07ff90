//! axe-core, the accessibility engine Lighthouse also runs, on every state of the app the scenarios
//! wait for: injected into the page through WebDriver (which the page's CSP does not govern), run
//! with its default rules (WCAG 2.x A and AA, and Deque's best practices), any violation a failure
//! that says which rule, on which elements, and how to fix it.
//!
//! The version is the one `e2e/audits/package-lock.json` pins; npm installs it with Lighthouse.

use std::{fmt::Write as _, path::Path, sync::Arc};

use serde::Deserialize;
use serde_json::Value;

use crate::{Context, Failure, Outcome};

/// Where npm puts axe-core's browser build, under the audits' folder.
pub const SCRIPT: &str = "node_modules/axe-core/axe.min.js";

/// Elements listed per violated rule; the rest are counted.
const MAX_NODES: usize = 5;
/// Longest HTML excerpt of an element in a report.
const MAX_HTML: usize = 160;

/// axe-core's browser build, read once per run.
#[derive(Debug, Clone)]
pub struct Axe {
    source: Arc<str>,
}

impl Axe {
    /// Reads axe-core from the audits' `node_modules`.
    pub fn load(audits: &Path) -> Outcome<Self> {
        let path = audits.join(SCRIPT);
        let source = std::fs::read_to_string(&path)
            .context(format!("cannot read axe-core at {}", path.display()))?;
        Ok(Self {
            source: source.into(),
        })
    }

    /// A script that defines `window.axe` (the UMD build assigns it; `module` does not exist in a
    /// page) and says so.
    pub fn injection(&self) -> String {
        format!("{}\n;return typeof window.axe === 'object';", self.source)
    }
}

/// Runs `axe.run` on the whole document and hands back its violations, or the error it threw, to
/// the WebDriver callback (the last argument of an asynchronous script).
pub const RUN: &str = r"
const done = arguments[arguments.length - 1];
window.axe
  .run(document, { resultTypes: ['violations'] })
  .then(
    (results) => done({ version: window.axe.version, violations: results.violations }),
    (error) => done({ error: String(error && error.stack || error) }),
  );
";

/// What [`RUN`] hands back.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RunResult {
    Ran {
        version: String,
        violations: Vec<Violation>,
    },
    Threw {
        error: String,
    },
}

/// One rule that failed, with the elements it failed on (axe-core's result format).
#[derive(Debug, Deserialize)]
pub struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    #[serde(rename = "helpUrl")]
    help_url: String,
    nodes: Vec<Node>,
}

#[derive(Debug, Deserialize)]
struct Node {
    /// CSS selectors, one per frame or shadow root on the way to the element.
    target: Vec<Value>,
    html: String,
    #[serde(rename = "failureSummary")]
    failure_summary: Option<String>,
}

/// The verdict on axe-core's answer for the page at `url`: nothing, or a report of every
/// violation.
pub fn verdict(url: &str, answer: Value) -> Outcome {
    let result: RunResult = serde_json::from_value(answer).context("axe-core's answer")?;
    match result {
        RunResult::Threw { error } => {
            Err(Failure::new(format!("axe-core failed on {url}: {error}")))
        }
        RunResult::Ran { violations, .. } if violations.is_empty() => Ok(()),
        RunResult::Ran {
            version,
            violations,
        } => Err(Failure::new(report(&version, url, &violations))),
    }
}

/// Every violation: the rule, its impact, what it asks for and where that is explained, then the
/// elements (selector, HTML, what to fix).
fn report(version: &str, url: &str, violations: &[Violation]) -> String {
    let mut text = format!(
        "axe-core {version}: {} accessibility rule(s) violated at {url}",
        violations.len()
    );
    for violation in violations {
        let _ = write!(
            text,
            "\n- {} ({}): {}\n  {}",
            violation.id,
            violation.impact.as_deref().unwrap_or("unknown impact"),
            violation.help,
            violation.help_url
        );
        for node in violation.nodes.iter().take(MAX_NODES) {
            let _ = write!(
                text,
                "\n  at {}: {}",
                selector(&node.target),
                shorten(&node.html, MAX_HTML)
            );
            for line in node.failure_summary.iter().flat_map(|s| s.lines()) {
                let _ = write!(text, "\n      {}", line.trim());
            }
        }
        if violation.nodes.len() > MAX_NODES {
            let _ = write!(
                text,
                "\n  and {} more element(s)",
                violation.nodes.len() - MAX_NODES
            );
        }
    }
    text
}

/// `a > b` for a top-level element; frames and shadow roots joined by ` >>> `.
fn selector(target: &[Value]) -> String {
    let parts: Vec<String> = target
        .iter()
        .map(|part| match part {
            Value::String(selector) => selector.clone(),
            other => other.to_string(),
        })
        .collect();
    parts.join(" >>> ")
}

fn shorten(text: &str, max: usize) -> String {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn image_alt(nodes: usize) -> Value {
        let node = json!({
            "target": ["main > img"],
            "html": "<img src=\"data:image/png;base64,AAAA\">",
            "failureSummary": "Fix any of the following:\n  Element does not have an alt attribute\n  aria-label attribute does not exist or is empty"
        });
        json!({
            "id": "image-alt",
            "impact": "critical",
            "help": "Images must have alternative text",
            "helpUrl": "https://dequeuniversity.com/rules/axe/4.14/image-alt?application=axeAPI",
            "tags": ["wcag2a"],
            "nodes": vec![node; nodes],
        })
    }

    #[test]
    fn no_violations_pass() {
        verdict(
            "http://127.0.0.1:1/",
            json!({ "version": "4.14.1", "violations": [] }),
        )
        .expect("no violation");
    }

    #[test]
    fn violations_are_reported_with_rule_element_and_fix() {
        let failure = verdict(
            "http://127.0.0.1:1/dashboard",
            json!({ "version": "4.14.1", "violations": [image_alt(1)] }),
        )
        .expect_err("a violation");
        assert_eq!(
            failure.to_string(),
            "axe-core 4.14.1: 1 accessibility rule(s) violated at http://127.0.0.1:1/dashboard\n\
             - image-alt (critical): Images must have alternative text\n  \
             https://dequeuniversity.com/rules/axe/4.14/image-alt?application=axeAPI\n  \
             at main > img: <img src=\"data:image/png;base64,AAAA\">\n      \
             Fix any of the following:\n      \
             Element does not have an alt attribute\n      \
             aria-label attribute does not exist or is empty"
        );
    }

    #[test]
    fn long_lists_and_long_elements_are_cut() {
        let mut violation = image_alt(7);
        violation["nodes"][0]["html"] = json!(format!("<p>{}</p>", "word ".repeat(100)));
        violation["nodes"][0]["target"] = json!(["iframe", "#inner > p"]);
        let failure = verdict(
            "http://x/",
            json!({ "version": "4.14.1", "violations": [violation] }),
        )
        .expect_err("a violation")
        .to_string();
        assert!(failure.contains("and 2 more element(s)"), "{failure}");
        assert!(
            failure.contains("at iframe >>> #inner > p: <p>word "),
            "{failure}"
        );
        let html = failure
            .lines()
            .find(|l| l.contains("<p>word"))
            .expect("the element");
        assert_eq!(
            html.chars().count(),
            "  at iframe >>> #inner > p: ".len() + MAX_HTML + 1
        );
        assert!(html.ends_with('…'), "{html}");
        assert_eq!(failure.matches("\n  at ").count(), MAX_NODES);
    }

    #[test]
    fn an_engine_error_is_a_failure() {
        let failure = verdict(
            "http://x/",
            json!({ "error": "Error: Axe is already running" }),
        )
        .expect_err("axe threw");
        assert_eq!(
            failure.to_string(),
            "axe-core failed on http://x/: Error: Axe is already running"
        );
    }
}
