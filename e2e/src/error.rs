//! One error type for the whole harness: a sentence saying what the user would have seen go wrong.
//!
//! Scenario steps return [`Outcome`] instead of panicking, so the runner can still take a
//! screenshot and save the console log of the browser that failed before it reports the step.

use std::fmt;

/// Why a step or a piece of the harness failed.
#[derive(Debug)]
pub struct Failure(String);

pub type Outcome<T = ()> = Result<T, Failure>;

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Any library error converts, so `?` works on WebDriver, I/O and HTTP calls alike; add context
/// with [`Context::context`] where the bare error would not say what was being done.
impl<E: std::error::Error> From<E> for Failure {
    fn from(error: E) -> Self {
        Self(error.to_string())
    }
}

/// Says what was being done when an error happened.
pub trait Context<T> {
    fn context(self, doing: impl fmt::Display) -> Outcome<T>;
}

impl<T, E: fmt::Display> Context<T> for Result<T, E> {
    fn context(self, doing: impl fmt::Display) -> Outcome<T> {
        self.map_err(|error| Failure(format!("{doing}: {error}")))
    }
}

/// Fails the current step with a formatted message unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err($crate::Failure::new(format!($($message)+)));
        }
    };
}
