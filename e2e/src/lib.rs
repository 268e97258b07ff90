//! The end-to-end test harness: the SPA's release build (`dist/`), the API and the local identity
//! provider on loopback, and Debian's Chromium driven through chromedriver, with axe-core auditing
//! every state the scenarios reach. The scenarios are in `tests/browser.rs`, the Lighthouse audits
//! in `tests/lighthouse.rs`; docs/testing.md, "End-to-end tests" and "Audits", says how to run them.

mod axe;
mod browser;
mod error;
mod group;
pub mod lighthouse;
mod other_paths;
pub mod site;
mod stack;

use std::path::{Path, PathBuf};

pub use browser::{Browser, CHROMEDRIVER, CHROMIUM, ChromeDriver, WAIT, button, xpath_literal};
pub use error::{Context, Failure, Outcome};
pub use other_paths::OtherPaths;
pub use stack::{Api, Stack, StackOptions};

/// `dist/` at the repository root, where `trunk build --release` writes the SPA.
pub fn dist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("dist"), |root| root.join("dist"))
}

/// `e2e/audits/`: the npm packages the audits run (axe-core, Lighthouse, puppeteer-core), pinned
/// by its `package-lock.json`, and the Lighthouse driver.
pub fn audits_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("audits")
}

/// What the tests need and cannot build themselves, each missing piece as one line saying how to
/// get it.
pub fn missing_prerequisites(dist: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    if !dist.join("index.html").is_file() {
        missing.push(format!(
            "{} is missing: run `trunk build --release` (or `cargo xtask ci`) first",
            dist.join("index.html").display()
        ));
    }
    for (program, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        if !Path::new(program).is_file() {
            missing.push(format!(
                "{program} is missing: install the Debian package {package} (apt-get install {package})"
            ));
        }
    }
    let axe = audits_dir().join(axe::SCRIPT);
    if !axe.is_file() {
        missing.push(npm_packages_missing(&axe));
    }
    missing
}

/// The line saying that a file of the audits' npm packages is missing, and how to install them.
fn npm_packages_missing(file: &Path) -> String {
    format!(
        "{} is missing: install the audits' npm packages with `npm ci --prefix e2e/audits` \
         (or `cargo xtask install`)",
        file.display()
    )
}
