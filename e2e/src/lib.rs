//! The end-to-end test harness: the SPA's release build (`dist/`), the API and the local identity
//! provider on loopback, and Debian's Chromium driven through chromedriver. The scenarios are in
//! `tests/browser.rs`; the README's "End-to-end tests" says how to run them.

mod error;
pub mod site;

pub use error::{Context, Failure, Outcome};
