//! JSON for the few documents the SPA reads and writes: `config.json`, the token endpoint's
//! answers, the ID token's claims, the API's bodies and the session cache.
//!
//! Why not serde_json: its deserializers, compiled once per type read, and their error formatting
//! were the largest removable part of the bundle (18.9 KB of its gzip size; README, "The SPA").
//! Here one parser builds a [`Value`] and each type picks its fields out of it, so a type costs
//! only its field list. The module's tests hold the parser and writer to serde_json's behaviour.

use thiserror::Error;

/// The deepest nesting accepted; the documents read here are at most three levels deep.
const MAX_DEPTH: usize = 32;

/// A parsed JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number as written (checked against JSON's grammar), converted only when read, so an
    /// integer never goes through a float.
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Object),
}

/// An object's fields, in document order. Types read them with [`Object::required`] and
/// [`Object::optional`], which remove what they read and refuse a field given twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object(Vec<(String, Value)>);

/// Why a document was refused, worded like serde_json's messages.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    #[error("{problem} at byte {at}")]
    Syntax { problem: &'static str, at: usize },
    #[error("expected {0}")]
    Expected(&'static str),
    #[error("invalid type for field `{field}`: expected {expected}")]
    Field {
        field: &'static str,
        expected: &'static str,
    },
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("duplicate field `{0}`")]
    Duplicate(&'static str),
    #[error("unknown field `{0}`")]
    Unknown(String),
}

/// A type read from JSON.
pub trait FromJson: Sized {
    fn from_json(value: Value) -> Result<Self, JsonError>;
}

/// A type written as JSON.
pub trait ToJson {
    fn write_json(&self, out: &mut String);
}

/// Parses `text` as a `T`.
pub fn from_str<T: FromJson>(text: &str) -> Result<T, JsonError> {
    T::from_json(Value::parse(text)?)
}

/// `value` as JSON text.
pub fn to_string<T: ToJson + ?Sized>(value: &T) -> String {
    let mut out = String::new();
    value.write_json(&mut out);
    out
}

/// Writes an object with these fields, in this order.
pub fn write_object(out: &mut String, fields: &[(&str, &dyn ToJson)]) {
    out.push('{');
    for (i, (name, value)) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        name.write_json(out);
        out.push(':');
        value.write_json(out);
    }
    out.push('}');
}

impl Value {
    /// Parses one JSON document (RFC 8259), refusing anything after it.
    pub fn parse(text: &str) -> Result<Value, JsonError> {
        let mut parser = Parser { text, at: 0 };
        let value = parser.value(0)?;
        parser.skip_whitespace();
        if parser.at < text.len() {
            return parser.fail("trailing characters");
        }
        Ok(value)
    }

    pub fn into_object(self) -> Result<Object, JsonError> {
        match self {
            Value::Object(object) => Ok(object),
            _ => Err(JsonError::Expected("an object")),
        }
    }
}

impl Object {
    /// The value of `field`, removed from the object; `None` when absent.
    fn take(&mut self, field: &'static str) -> Result<Option<Value>, JsonError> {
        let Some(index) = self.0.iter().position(|(name, _)| name == field) else {
            return Ok(None);
        };
        let (_, value) = self.0.remove(index);
        if self.0.iter().any(|(name, _)| name == field) {
            return Err(JsonError::Duplicate(field));
        }
        Ok(Some(value))
    }

    /// The value of `field`, which must be present and not `null`.
    pub fn required<T: FromJson>(&mut self, field: &'static str) -> Result<T, JsonError> {
        match self.take(field)? {
            None => Err(JsonError::Missing(field)),
            Some(value) => read_field(field, value),
        }
    }

    /// The value of `field`; `None` when absent or `null`.
    pub fn optional<T: FromJson>(&mut self, field: &'static str) -> Result<Option<T>, JsonError> {
        match self.take(field)? {
            None | Some(Value::Null) => Ok(None),
            Some(value) => read_field(field, value).map(Some),
        }
    }

    /// Refuses the fields that were not read: for documents where an unknown field is a mistake.
    pub fn deny_unknown_fields(self) -> Result<(), JsonError> {
        match self.0.into_iter().next() {
            Some((name, _)) => Err(JsonError::Unknown(name)),
            None => Ok(()),
        }
    }
}

fn read_field<T: FromJson>(field: &'static str, value: Value) -> Result<T, JsonError> {
    T::from_json(value).map_err(|error| match error {
        JsonError::Expected(expected) => JsonError::Field { field, expected },
        other => other,
    })
}

impl FromJson for String {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::String(text) => Ok(text),
            _ => Err(JsonError::Expected("a string")),
        }
    }
}

impl FromJson for u64 {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::Number(number) => number.parse().ok(),
            _ => None,
        }
        .ok_or(JsonError::Expected("a non-negative integer"))
    }
}

impl FromJson for bool {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::Bool(flag) => Ok(flag),
            _ => Err(JsonError::Expected("a boolean")),
        }
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn from_json(value: Value) -> Result<Self, JsonError> {
        match value {
            Value::Array(items) => items.into_iter().map(T::from_json).collect(),
            _ => Err(JsonError::Expected("a list")),
        }
    }
}

impl ToJson for str {
    /// Escapes as serde_json does: quotes, backslashes and control characters.
    fn write_json(&self, out: &mut String) {
        out.push('"');
        for c in self.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if c < ' ' => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.push_str("\\u00");
                    out.push(char::from(HEX[c as usize >> 4]));
                    out.push(char::from(HEX[c as usize & 0xf]));
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut String) {
        self.as_str().write_json(out);
    }
}

impl ToJson for u64 {
    fn write_json(&self, out: &mut String) {
        out.push_str(&self.to_string());
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

struct Parser<'a> {
    text: &'a str,
    /// The byte offset of the next character to read.
    at: usize,
}

impl Parser<'_> {
    fn fail<T>(&self, problem: &'static str) -> Result<T, JsonError> {
        let problem = if self.at < self.text.len() {
            problem
        } else {
            "unexpected end of the document"
        };
        Err(JsonError::Syntax {
            problem,
            at: self.at,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    /// Consumes `byte` if it comes next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.skip_whitespace();
        match self.peek() {
            Some(b'{' | b'[') if depth >= MAX_DEPTH => self.fail("nested too deeply"),
            Some(b'{') => self.object(depth).map(Value::Object),
            Some(b'[') => self.array(depth).map(Value::Array),
            Some(b'"') => self.string().map(Value::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Null),
            _ => self.fail("expected value"),
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, JsonError> {
        for byte in word.bytes() {
            if !self.eat(byte) {
                return self.fail("expected value");
            }
        }
        Ok(value)
    }

    fn object(&mut self, depth: usize) -> Result<Object, JsonError> {
        self.at += 1;
        let mut fields = Vec::new();
        self.skip_whitespace();
        if self.eat(b'}') {
            return Ok(Object(fields));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return self.fail("expected field name");
            }
            let name = self.string()?;
            self.skip_whitespace();
            if !self.eat(b':') {
                return self.fail("expected `:`");
            }
            fields.push((name, self.value(depth + 1)?));
            self.skip_whitespace();
            if self.eat(b'}') {
                return Ok(Object(fields));
            }
            if !self.eat(b',') {
                return self.fail("expected `,` or `}`");
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Value>, JsonError> {
        self.at += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.eat(b']') {
            return Ok(items);
        }
        loop {
            items.push(self.value(depth + 1)?);
            self.skip_whitespace();
            if self.eat(b']') {
                return Ok(items);
            }
            if !self.eat(b',') {
                return self.fail("expected `,` or `]`");
            }
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.at += 1;
        let mut out = String::new();
        loop {
            let start = self.at;
            while matches!(self.peek(), Some(b) if b != b'"' && b != b'\\' && b >= b' ') {
                self.at += 1;
            }
            // The run stops before an ASCII byte or at the end: both are character boundaries.
            out.push_str(&self.text[start..self.at]);
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escaped = self.escape()?;
                    out.push(escaped);
                }
                _ => return self.fail("control character in a string"),
            }
        }
    }

    /// The character an escape sequence stands for (after its backslash).
    fn escape(&mut self) -> Result<char, JsonError> {
        let Some(byte) = self.peek() else {
            return self.fail("invalid escape");
        };
        self.at += 1;
        Ok(match byte {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        if !(self.eat(b'\\') && self.eat(b'u')) {
                            return self.fail("lone leading surrogate in hex escape");
                        }
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return self.fail("lone leading surrogate in hex escape");
                        }
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return self.fail("unexpected end of hex escape"),
                    _ => unit,
                };
                // Every value outside the surrogate range is a character.
                char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER)
            }
            _ => {
                self.at -= 1;
                return self.fail("invalid escape");
            }
        })
    }

    /// Four hex digits of a `\u` escape.
    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut unit = 0;
        for _ in 0..4 {
            let Some(digit) = self.peek().and_then(|b| char::from(b).to_digit(16)) else {
                return self.fail("invalid escape");
            };
            unit = unit * 16 + digit;
            self.at += 1;
        }
        Ok(unit)
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.at;
        self.eat(b'-');
        if !self.eat(b'0') && self.digits() == 0 {
            return self.fail("invalid number");
        }
        if self.eat(b'.') && self.digits() == 0 {
            return self.fail("invalid number");
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _sign = self.eat(b'+') || self.eat(b'-');
            if self.digits() == 0 {
                return self.fail("invalid number");
            }
        }
        Ok(Value::Number(self.text[start..self.at].to_owned()))
    }

    /// Consumes decimal digits; answers how many.
    fn digits(&mut self) -> usize {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at - start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Our reading of `text`, as serde_json's `Value` (numbers through their text).
    fn as_serde(value: Value) -> serde_json::Value {
        match value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => flag.into(),
            Value::Number(text) => serde_json::from_str(&text).expect("number"),
            Value::String(text) => text.into(),
            Value::Array(items) => items.into_iter().map(as_serde).collect(),
            Value::Object(Object(fields)) => serde_json::Value::Object(
                fields
                    .into_iter()
                    .map(|(name, value)| (name, as_serde(value)))
                    .collect(),
            ),
        }
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let documents = [
            "null",
            " true ",
            "false",
            "0",
            "-0",
            "3599",
            "18446744073709551615",
            "-12.5e+3",
            "1E2",
            r#""""#,
            r#""plain text""#,
            r#""é ünïcödé 😀""#,
            r#""\" \\ \/ \b \f \n \r \t""#,
            r#""\u0041\u00e9\u20AC\ud83d\ude00""#,
            "[]",
            "[1, [2, [3]], {}]",
            "{}",
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
            "\n\t{ \"spaced\" :\r\n \"out\" }\n",
        ];
        for text in documents {
            let ours = Value::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            let theirs: serde_json::Value = serde_json::from_str(text).expect(text);
            assert_eq!(as_serde(ours), theirs, "{text}");
        }
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        let documents = [
            "",
            " ",
            "nul",
            "True",
            "01",
            "1.",
            ".5",
            "-",
            "1e",
            "+1",
            "0x10",
            "NaN",
            r#""unterminated"#,
            "\"tab\tinside\"",
            "\"line\nbreak\"",
            r#""\x41""#,
            r#""\u12""#,
            r#""\u+123""#,
            r#""\ud83d""#,
            r#""\ud83d\u0041""#,
            r#""\ude00""#,
            "[1,]",
            "[1 2]",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{a:1}",
            "{'a':1}",
            "{\"a\":1}}",
            "[1] [2]",
            "// comment\n1",
        ];
        for text in documents {
            assert!(
                serde_json::from_str::<serde_json::Value>(text).is_err(),
                "serde_json accepts {text:?}"
            );
            assert!(
                matches!(Value::parse(text), Err(JsonError::Syntax { .. })),
                "{text:?}"
            );
        }
    }

    #[test]
    fn truncated_documents_say_so() {
        for text in ["", "{\"clientId\":\"x\"", "[1,", "\"abc", "tru"] {
            assert_eq!(
                Value::parse(text),
                Err(JsonError::Syntax {
                    problem: "unexpected end of the document",
                    at: text.len()
                }),
                "{text}"
            );
        }
    }

    #[test]
    fn nesting_is_bounded() {
        let deep = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(Value::parse(&deep(MAX_DEPTH)).is_ok());
        assert_eq!(
            Value::parse(&deep(MAX_DEPTH + 1)),
            Err(JsonError::Syntax {
                problem: "nested too deeply",
                at: MAX_DEPTH
            })
        );
    }

    #[test]
    fn writes_what_serde_json_writes() {
        for text in [
            "",
            "plain",
            "quote \" and backslash \\",
            "controls \n \r \t \u{8} \u{c} \u{0} \u{1f} \u{7f}",
            "slash / é 😀",
        ] {
            assert_eq!(
                to_string(text),
                serde_json::to_string(text).expect("json"),
                "{text:?}"
            );
            assert_eq!(from_str::<String>(&to_string(text)).as_deref(), Ok(text));
        }
        let mut out = String::new();
        write_object(
            &mut out,
            &[("id", &7_u64), ("done", &true), ("t", &"x".to_owned())],
        );
        assert_eq!(out, r#"{"id":7,"done":true,"t":"x"}"#);
    }

    #[test]
    fn integers_are_exact_and_non_negative() {
        assert_eq!(from_str::<u64>("18446744073709551615"), Ok(u64::MAX));
        for refused in ["-1", "1.5", "1e3", "18446744073709551616", "\"7\""] {
            assert_eq!(
                from_str::<u64>(refused),
                Err(JsonError::Expected("a non-negative integer")),
                "{refused}"
            );
        }
    }

    /// A type read the way the app's types are.
    #[derive(Debug, PartialEq)]
    struct Sample {
        name: String,
        count: u64,
        tags: Vec<String>,
        note: Option<String>,
    }

    impl FromJson for Sample {
        fn from_json(value: Value) -> Result<Self, JsonError> {
            let mut object = value.into_object()?;
            let sample = Sample {
                name: object.required("name")?,
                count: object.required("count")?,
                tags: object.required("tags")?,
                note: object.optional("note")?,
            };
            object.deny_unknown_fields()?;
            Ok(sample)
        }
    }

    #[test]
    fn fields_are_checked_by_name_and_type() {
        let sample = from_str::<Sample>(r#"{"count":2,"name":"a","tags":["x","y"],"note":null}"#);
        assert_eq!(
            sample,
            Ok(Sample {
                name: "a".into(),
                count: 2,
                tags: vec!["x".into(), "y".into()],
                note: None
            })
        );
        let cases = [
            (r#"{"count":2,"tags":[]}"#, JsonError::Missing("name")),
            (
                r#"{"name":null,"count":2,"tags":[]}"#,
                JsonError::Field {
                    field: "name",
                    expected: "a string",
                },
            ),
            (
                r#"{"name":"a","count":2,"tags":[1]}"#,
                JsonError::Field {
                    field: "tags",
                    expected: "a string",
                },
            ),
            (
                r#"{"name":"a","name":"b","count":2,"tags":[]}"#,
                JsonError::Duplicate("name"),
            ),
            (
                r#"{"name":"a","count":2,"tags":[],"extra":0}"#,
                JsonError::Unknown("extra".into()),
            ),
            ("[]", JsonError::Expected("an object")),
        ];
        for (text, expected) in cases {
            assert_eq!(from_str::<Sample>(text), Err(expected), "{text}");
        }
        assert_eq!(
            JsonError::Missing("authority").to_string(),
            "missing field `authority`"
        );
    }
}
