//! The task title rule, as a function ([`normalize_title`], which both sides call) and as the
//! JSON Schema the API documents ([`TITLE_PATTERN`] with a length of 1 to [`TITLE_MAX_CHARS`]), so
//! that clients generated from the OpenAPI document and the API agree on every string.

/// The longest title accepted, in characters (Unicode scalar values) as sent.
pub const TITLE_MAX_CHARS: usize = 200;

/// The title rule as a regular expression of the JSON Schema dialect (ECMA-262; Python's `re` and
/// Rust's `regex` read it the same): optional surrounding whitespace, then at least one
/// character that is neither whitespace nor a control character, and no control character
/// between the first and the last such character. Whitespace is Unicode's `White_Space` (what
/// `str::trim` removes), control characters are the `Cc` category (`char::is_control`), both
/// spelt out as ranges so that every regex dialect agrees.
pub const TITLE_PATTERN: &str = concat!(
    // Leading whitespace.
    r"^[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*",
    // The first visible character (neither whitespace nor control).
    r"[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]",
    // Anything but control characters, ending with a visible character.
    r"(?:[^\u0000-\u001F\u007F-\u009F]*",
    r"[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000])?",
    // Trailing whitespace.
    r"[\u0009-\u000D\u0020\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*$",
);

/// Why a task title was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TitleError {
    #[error("title must not be empty")]
    Empty,
    #[error("title must be at most {TITLE_MAX_CHARS} characters (got {0})")]
    TooLong(usize),
    #[error("title must not contain control characters such as line breaks or tabs")]
    ControlCharacter,
}

/// The title as stored: at most 200 characters as sent, surrounding whitespace trimmed, then not
/// empty and with no control characters (a title is one line of text; hidden characters only
/// confuse whoever reads it).
///
/// The SPA checks with the same function before sending, so users see the API's rule as they type.
pub fn normalize_title(raw: &str) -> Result<String, TitleError> {
    let chars = raw.chars().count();
    if chars > TITLE_MAX_CHARS {
        return Err(TitleError::TooLong(chars));
    }
    let title = raw.trim();
    if title.is_empty() {
        return Err(TitleError::Empty);
    }
    if title.chars().any(char::is_control) {
        return Err(TitleError::ControlCharacter);
    }
    Ok(title.to_owned())
}

/// The JSON Schema of a title in the OpenAPI document.
#[cfg(feature = "openapi")]
pub fn title_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(TITLE_MAX_CHARS))
        .pattern(Some(TITLE_PATTERN))
        .description(Some(
            "At most 200 characters, not blank, no control characters (tabs, line breaks) except \
             in the surrounding whitespace, which is trimmed before the title is stored.",
        ))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts_up_to_the_limit() {
        assert_eq!(normalize_title("  Buy milk \n").as_deref(), Ok("Buy milk"));
        let longest = "é".repeat(TITLE_MAX_CHARS);
        assert_eq!(normalize_title(&longest), Ok(longest.clone()));
        let padded = format!(" {} ", "é".repeat(TITLE_MAX_CHARS - 2));
        assert_eq!(normalize_title(&padded).map(|t| t.chars().count()), Ok(198));
    }

    #[test]
    fn refuses_empty_long_and_control_characters() {
        assert_eq!(normalize_title(""), Err(TitleError::Empty));
        assert_eq!(normalize_title(" \t\n "), Err(TitleError::Empty));
        let too_long = "x".repeat(TITLE_MAX_CHARS + 1);
        assert_eq!(normalize_title(&too_long), Err(TitleError::TooLong(201)));
        let padded = format!(" {} ", "x".repeat(TITLE_MAX_CHARS));
        assert_eq!(normalize_title(&padded), Err(TitleError::TooLong(202)));
        assert_eq!(normalize_title("a\nb"), Err(TitleError::ControlCharacter));
        assert_eq!(
            normalize_title("a\u{0}b"),
            Err(TitleError::ControlCharacter)
        );
    }

    /// The pattern and the function agree on every character class the rule tells apart, alone,
    /// around and inside a title.
    #[test]
    fn the_pattern_is_the_rule() {
        let pattern = regex::Regex::new(TITLE_PATTERN).expect("TITLE_PATTERN compiles");
        let samples: Vec<char> = (0u32..=0x3100)
            .chain([0xFEFF, 0x180E, 0x1F600, 0x10FFFF])
            .filter_map(char::from_u32)
            .filter(|c| c.is_whitespace() || c.is_control() || (*c as u32).is_multiple_of(97))
            .chain(['a', 'é', '-', '.'])
            .collect();
        for &c in &samples {
            for candidate in [
                c.to_string(),
                format!("{c}a"),
                format!("a{c}"),
                format!("a{c}b"),
                format!("{c}{c}"),
                format!(" a{c} "),
            ] {
                assert_eq!(
                    pattern.is_match(&candidate),
                    normalize_title(&candidate).is_ok(),
                    "U+{:04X} in {candidate:?}",
                    c as u32
                );
            }
        }
    }
}
