//! Reading configuration variables: each subsystem's settings parse their own variables through
//! [`Vars`], and a bad value becomes a [`ConfigError`] naming the variable.

use std::{ops::RangeInclusive, time::Duration};

/// Longest value echoed back in an error message.
const MAX_ECHO: usize = 80;

/// Why the configuration was refused: one line naming the variable and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{name} is not set: {hint}")]
    Missing {
        name: &'static str,
        hint: &'static str,
    },
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
    #[error("cannot read {path}: {reason}")]
    EnvFile { path: String, reason: String },
}

/// `name`'s `value` refused for `reason`; the value is echoed cut to a readable length.
pub fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name,
        value: value.chars().take(MAX_ECHO).collect(),
        reason: reason.into(),
    }
}

/// Variables by name, from any source (the environment and `.env`; a map in tests). A value of
/// only whitespace counts as unset, and values are trimmed.
#[derive(Clone, Copy)]
pub struct Vars<'a>(&'a dyn Fn(&str) -> Option<String>);

impl std::fmt::Debug for Vars<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vars")
    }
}

impl<'a> Vars<'a> {
    pub fn new(lookup: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Self(lookup)
    }

    pub fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A GUID, lowercased (Entra writes `tid` and `aud` in lowercase); `hint` says where to find
    /// it when it is missing.
    pub fn guid(&self, name: &'static str, hint: &'static str) -> Result<String, ConfigError> {
        self.optional_guid(name)?
            .ok_or(ConfigError::Missing { name, hint })
    }

    pub fn optional_guid(&self, name: &'static str) -> Result<Option<String>, ConfigError> {
        self.get(name)
            .map(|value| {
                shared::normalize_guid(&value).ok_or_else(|| {
                    invalid(
                        name,
                        &value,
                        "expected a GUID like 00000000-0000-0000-0000-000000000000",
                    )
                })
            })
            .transpose()
    }

    /// A whole number in `range`, `default` when unset.
    pub fn number(
        &self,
        name: &'static str,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> Result<u64, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(default);
        };
        value
            .parse()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                invalid(
                    name,
                    &value,
                    format!(
                        "expected a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    /// [`Self::number`] as a count of seconds.
    pub fn seconds(
        &self,
        name: &'static str,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> Result<Duration, ConfigError> {
        self.number(name, default, range).map(Duration::from_secs)
    }

    /// One of `choices` (exact, case-sensitive), `None` when unset.
    pub fn choice(
        &self,
        name: &'static str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>, ConfigError> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        choices
            .iter()
            .find(|choice| **choice == value)
            .copied()
            .map(Some)
            .ok_or_else(|| invalid(name, &value, format!("expected {}", or_list(choices))))
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(choices: &[&str]) -> String {
    match choices {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn blank_is_unset_and_values_are_trimmed() {
        let lookup = vars(&[("A", "  "), ("B", " x ")]);
        let vars = Vars::new(&lookup);
        assert_eq!(vars.get("A"), None);
        assert_eq!(vars.get("B").as_deref(), Some("x"));
        assert_eq!(vars.get("C"), None);
    }

    #[test]
    fn choices_name_the_accepted_values() {
        let lookup = vars(&[("FORMAT", "xml")]);
        let err = Vars::new(&lookup)
            .choice("FORMAT", &["text", "json"])
            .expect_err("xml");
        assert_eq!(
            err.to_string(),
            r#"FORMAT="xml" is invalid: expected text or json"#
        );
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let message = invalid("X", &"a".repeat(500), "no").to_string();
        assert!(message.len() < 120, "{message}");
    }
}
