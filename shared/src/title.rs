/// The longest title accepted, in characters (Unicode scalar values), after trimming.
pub const TITLE_MAX_CHARS: usize = 200;

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

/// The title as stored: surrounding whitespace trimmed, then 1..=200 characters with no control
/// characters (a title is one line of text; hidden characters only confuse whoever reads it).
///
/// The SPA checks with the same function before sending, so users see the API's rule as they type.
pub fn normalize_title(raw: &str) -> Result<String, TitleError> {
    let title = raw.trim();
    if title.is_empty() {
        return Err(TitleError::Empty);
    }
    let chars = title.chars().count();
    if chars > TITLE_MAX_CHARS {
        return Err(TitleError::TooLong(chars));
    }
    if title.chars().any(char::is_control) {
        return Err(TitleError::ControlCharacter);
    }
    Ok(title.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_and_accepts_up_to_the_limit() {
        assert_eq!(normalize_title("  Buy milk \n").as_deref(), Ok("Buy milk"));
        let longest = "é".repeat(TITLE_MAX_CHARS);
        assert_eq!(normalize_title(&format!(" {longest} ")), Ok(longest));
    }

    #[test]
    fn refuses_empty_long_and_control_characters() {
        assert_eq!(normalize_title(""), Err(TitleError::Empty));
        assert_eq!(normalize_title(" \t\n "), Err(TitleError::Empty));
        let too_long = "x".repeat(TITLE_MAX_CHARS + 1);
        assert_eq!(normalize_title(&too_long), Err(TitleError::TooLong(201)));
        assert_eq!(normalize_title("a\nb"), Err(TitleError::ControlCharacter));
        assert_eq!(
            normalize_title("a\u{0}b"),
            Err(TitleError::ControlCharacter)
        );
    }
}
