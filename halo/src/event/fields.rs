//! Reading the few fields the event scan needs in one pass over the bytes,
//! without building a `serde_json::Value` or running a deserializer: the
//! scan descends only into the objects that matter and skips everything
//! else (strings by searching for their closing quote). Anything of an
//! unexpected shape is simply absent, and text that is not JSON gives
//! nothing at all: the scan never fails.
//!
//! The scan is lenient about what it skips (it checks the structure, not
//! every character of a skipped string or number): the handler's own
//! decoding is what rejects malformed events.

use std::borrow::Cow;

/// Collects fields of a JSON object; the building block of the event scan.
/// What it collects may borrow from the event text (`'de`).
pub(crate) trait Collect<'de>: Default {
    /// Reads the value of `key` (its bytes, escapes decoded) from `value`
    /// if it is wanted; returns `Ok(false)` (reading nothing) to have it
    /// skipped.
    fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed>;
}

/// The event is not JSON: the scan gives nothing.
#[derive(Debug)]
pub(crate) struct Malformed;

/// The next value of an object being collected.
pub(crate) struct Value<'r, 'de> {
    reader: &'r mut Reader<'de>,
}

impl<'de> Value<'_, 'de> {
    /// The value as a [`Scalar`].
    pub(crate) fn scalar(&mut self) -> Result<Scalar<'de>, Malformed> {
        self.reader.scalar()
    }

    /// The value as `T` when it is an object, else `T::default()`.
    pub(crate) fn object<T: Collect<'de>>(&mut self) -> Result<T, Malformed> {
        self.reader.lenient()
    }

    /// The first element of an array as `T` (see [`Value::object`]); any
    /// other value gives `T::default()`.
    pub(crate) fn first<T: Collect<'de>>(&mut self) -> Result<T, Malformed> {
        self.reader.first()
    }

    /// Skips the value: the key was present.
    pub(crate) fn present(&mut self) -> Result<bool, Malformed> {
        self.reader.skip_value()?;
        Ok(true)
    }

    /// Skips the value and gives where it is in the text: its first byte
    /// and the byte after its last.
    pub(crate) fn span(&mut self) -> Result<(usize, usize), Malformed> {
        self.reader.whitespace();
        let start = self.reader.at;
        self.reader.skip_value()?;
        Ok((start, self.reader.at))
    }
}

/// A string or boolean value; for an array, its first element (multi-value
/// headers). Anything else is `Absent`. A string without escapes borrows
/// the event text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) enum Scalar<'de> {
    #[default]
    Absent,
    Text(Cow<'de, str>),
    Flag(bool),
}

impl<'de> Scalar<'de> {
    /// The string, borrowed where it can be.
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Scalar::Text(text) => Some(text),
            _ => None,
        }
    }

    /// The string, owned.
    pub(crate) fn text(self) -> Option<String> {
        match self {
            Scalar::Text(text) => Some(text.into_owned()),
            _ => None,
        }
    }

    /// `true`/`false` from a boolean or a string `"true"`/`"false"` (any case).
    pub(crate) fn flag(self) -> Option<bool> {
        match self {
            Scalar::Flag(flag) => Some(flag),
            Scalar::Text(text) if text.trim().eq_ignore_ascii_case("true") => Some(true),
            Scalar::Text(text) if text.trim().eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }
}

/// Reads `T` from raw JSON; text that is not JSON gives the default.
pub(crate) fn read<'de, T: Collect<'de>>(json: &'de str) -> T {
    let mut reader = Reader { text: json, bytes: json.as_bytes(), at: 0 };
    let collected = reader.lenient::<T>().and_then(|collected| {
        reader.whitespace();
        if reader.at == reader.bytes.len() { Ok(collected) } else { Err(Malformed) }
    });
    collected.unwrap_or_default()
}

/// A position in the event's bytes.
struct Reader<'de> {
    text: &'de str,
    bytes: &'de [u8],
    at: usize,
}

impl<'de> Reader<'de> {
    #[inline(always)]
    fn whitespace(&mut self) {
        // Most tokens follow another directly (events come compact): one
        // comparison tells a byte above the space, never whitespace.
        while let Some(&byte) = self.bytes.get(self.at) {
            if byte > b' ' || !matches!(byte, b' ' | b'\n' | b'\r' | b'\t') {
                return;
            }
            self.at += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    #[inline(always)]
    fn peek(&mut self) -> Result<u8, Malformed> {
        self.whitespace();
        self.bytes.get(self.at).copied().ok_or(Malformed)
    }

    #[inline(always)]
    fn expect(&mut self, byte: u8) -> Result<(), Malformed> {
        if self.peek()? != byte {
            return Err(Malformed);
        }
        self.at += 1;
        Ok(())
    }

    /// Reads an object's members into `T`, or skips any other value and
    /// gives the default.
    fn lenient<T: Collect<'de>>(&mut self) -> Result<T, Malformed> {
        if self.peek()? != b'{' {
            self.skip_value()?;
            return Ok(T::default());
        }
        self.at += 1;
        let mut collected = T::default();
        if self.peek()? == b'}' {
            self.at += 1;
            return Ok(collected);
        }
        loop {
            if self.peek()? != b'"' {
                return Err(Malformed);
            }
            let key = self.key()?;
            self.expect(b':')?;
            if !collected.field(&key, &mut Value { reader: self })? {
                self.skip_value()?;
            }
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Ok(collected);
                }
                _ => return Err(Malformed),
            }
        }
    }

    /// The first element of an array read with [`Reader::lenient`]; the
    /// default for anything else.
    fn first<T: Collect<'de>>(&mut self) -> Result<T, Malformed> {
        if self.peek()? != b'[' {
            self.skip_value()?;
            return Ok(T::default());
        }
        self.at += 1;
        if self.peek()? == b']' {
            self.at += 1;
            return Ok(T::default());
        }
        let first = self.lenient()?;
        self.rest_of_array()?;
        Ok(first)
    }

    fn scalar(&mut self) -> Result<Scalar<'de>, Malformed> {
        match self.peek()? {
            b'"' => Ok(Scalar::Text(self.string()?)),
            b't' => self.literal(b"true").map(|()| Scalar::Flag(true)),
            b'f' => self.literal(b"false").map(|()| Scalar::Flag(false)),
            b'[' => {
                self.at += 1;
                let first = match self.peek()? {
                    b']' => {
                        self.at += 1;
                        return Ok(Scalar::Absent);
                    }
                    // No recursion into nested arrays: any depth is safe.
                    b'[' => {
                        self.skip_value()?;
                        Scalar::Absent
                    }
                    _ => self.scalar()?,
                };
                self.rest_of_array()?;
                Ok(first)
            }
            _ => {
                self.skip_value()?;
                Ok(Scalar::Absent)
            }
        }
    }

    /// After an array's first element: the other elements, skipped, and
    /// the closing bracket.
    fn rest_of_array(&mut self) -> Result<(), Malformed> {
        loop {
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.skip_value()?;
                }
                b']' => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(Malformed),
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), Malformed> {
        if !self.bytes[self.at..].starts_with(word) {
            return Err(Malformed);
        }
        self.at += word.len();
        Ok(())
    }

    /// Skips one value. Nested arrays and objects are skipped without
    /// recursion (any depth), checking that brackets match.
    ///
    /// Most skipped values are strings: they are skipped right here, and
    /// everything else in [`Reader::skip_other`].
    #[inline(always)]
    fn skip_value(&mut self) -> Result<(), Malformed> {
        if self.peek()? == b'"' {
            return self.skip_string();
        }
        self.skip_other()
    }

    /// Skips a value that is not a string.
    #[inline(never)]
    fn skip_other(&mut self) -> Result<(), Malformed> {
        match self.peek()? {
            b'{' | b'[' => self.skip_container(),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => {
                let rest = &self.bytes[self.at..];
                let length = rest
                    .iter()
                    .position(|b| !matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                    .unwrap_or(rest.len());
                self.at += length;
                Ok(())
            }
            _ => Err(Malformed),
        }
    }

    /// Skips an array or object, whatever it holds, the reader on its
    /// opening bracket, in one loop over the bytes: only strings (which may
    /// hold brackets) need a closer look. Brackets are counted, not matched
    /// by kind (the handler's decoding rejects what does not nest).
    fn skip_container(&mut self) -> Result<(), Malformed> {
        let bytes = self.bytes;
        let mut at = self.at;
        let mut depth = 0usize;
        loop {
            at += crate::json_bytes::find_structure(bytes.get(at..).ok_or(Malformed)?).ok_or(Malformed)?;
            match bytes[at] {
                b'"' => {
                    at = string_end(bytes, at + 1).ok_or(Malformed)?.0;
                    continue;
                }
                b'{' | b'[' => depth += 1,
                _ => {
                    depth -= 1;
                    if depth == 0 {
                        self.at = at + 1;
                        return Ok(());
                    }
                }
            }
            at += 1;
        }
    }

    /// Skips a string, the reader on its opening quote.
    #[inline(always)]
    fn skip_string(&mut self) -> Result<(), Malformed> {
        self.at = string_end(self.bytes, self.at + 1).ok_or(Malformed)?.0;
        Ok(())
    }

    /// Skips a string, the reader on its opening quote: where its text
    /// (between the quotes) starts and ends, and whether it holds an
    /// escape.
    #[inline(always)]
    fn string_span(&mut self) -> Result<(usize, usize, bool), Malformed> {
        let start = self.at + 1;
        let (end, escaped) = string_end(self.bytes, start).ok_or(Malformed)?;
        self.at = end;
        Ok((start, end - 1, escaped))
    }

    /// Reads a key, the reader on its opening quote: its bytes, borrowed
    /// when it has no escapes (keys are only compared, never shown, so they
    /// need no UTF-8 check).
    #[inline(always)]
    fn key(&mut self) -> Result<Cow<'de, [u8]>, Malformed> {
        let (start, end, escaped) = self.string_span()?;
        let raw = &self.bytes[start..end];
        if !escaped {
            return Ok(Cow::Borrowed(raw));
        }
        let text = std::str::from_utf8(raw).map_err(|_| Malformed)?;
        unescape(text).map(|key| Cow::Owned(key.into_bytes()))
    }

    /// Reads a string value, the reader on its opening quote: borrowed
    /// from the event when it has no escapes.
    fn string(&mut self) -> Result<Cow<'de, str>, Malformed> {
        let (start, end, escaped) = self.string_span()?;
        // A string starts and ends at a quote (ASCII): whole characters.
        let text = self.text.get(start..end).ok_or(Malformed)?;
        if escaped { unescape(text).map(Cow::Owned) } else { Ok(Cow::Borrowed(text)) }
    }
}

/// The position just after the closing quote of the string whose text
/// starts at `at`, and whether it holds an escape; `None` when it does not
/// end.
#[inline(always)]
fn string_end(bytes: &[u8], mut at: usize) -> Option<(usize, bool)> {
    let mut escaped = false;
    loop {
        let found = at + crate::json_bytes::find_quote_or_backslash(bytes.get(at..)?)?;
        if bytes[found] == b'"' {
            return Some((found + 1, escaped));
        }
        // An escape: its next byte is never the end.
        escaped = true;
        at = found + 2;
    }
}

/// The text of a JSON string's escapes decoded (`\n`, `\"`, `\u00e9`,
/// surrogate pairs); an invalid escape makes the event malformed.
fn unescape(raw: &str) -> Result<String, Malformed> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let decoded = match chars.next().ok_or(Malformed)? {
            '"' => '"',
            '\\' => '\\',
            '/' => '/',
            'b' => '\u{8}',
            'f' => '\u{c}',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'u' => {
                let first = hex4(&mut chars)?;
                match first {
                    0xD800..=0xDBFF => {
                        if chars.next() != Some('\\') || chars.next() != Some('u') {
                            return Err(Malformed);
                        }
                        let second = hex4(&mut chars)?;
                        if !(0xDC00..=0xDFFF).contains(&second) {
                            return Err(Malformed);
                        }
                        let code = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
                        char::from_u32(code).ok_or(Malformed)?
                    }
                    _ => char::from_u32(first).ok_or(Malformed)?,
                }
            }
            _ => return Err(Malformed),
        };
        out.push(decoded);
    }
    Ok(out)
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Result<u32, Malformed> {
    let mut value = 0;
    for _ in 0..4 {
        value = value * 16 + chars.next().and_then(|c| c.to_digit(16)).ok_or(Malformed)?;
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Pick<'de> {
        a: Scalar<'de>,
        b: bool,
    }

    impl<'de> Collect<'de> for Pick<'de> {
        fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed> {
            match key {
                b"a" => self.a = value.scalar()?,
                b"b" => self.b = value.present()?,
                _ => return Ok(false),
            }
            Ok(true)
        }
    }

    #[test]
    fn picks_fields_and_skips_the_rest() {
        let pick: Pick<'_> = read(r#"{"x": {"deep": [1, {"a": 2}, "]}"]}, "a": "yes", "b": null}"#);
        assert_eq!(pick.a, Scalar::Text("yes".into()));
        assert!(pick.b);
    }

    #[test]
    fn any_shape_is_absent_not_an_error() {
        for json in [
            "[1,2]",
            "\"text\"",
            "null",
            "42",
            "true",
            "{oops",
            r#"{"a": {"n": 1}}"#,
            r#"{"a": 5}"#,
            r#"{"a": "x"} trailing"#,
            r#"{"a": "x", "z": [}"#,
            r#"{"a": "x", "z": "unterminated}"#,
            r#"{"a": "\q"}"#,
            "",
        ] {
            let pick: Pick<'_> = read(json);
            assert_eq!(pick.a, Scalar::Absent, "{json}");
        }
    }

    #[test]
    fn arrays_give_their_first_element_and_flags_read_strings() {
        let pick: Pick<'_> = read(r#"{"a": ["first", "second"]}"#);
        assert_eq!(pick.a.text().as_deref(), Some("first"));
        assert_eq!(Scalar::Text("TRUE".into()).flag(), Some(true));
        assert_eq!(Scalar::Flag(false).flag(), Some(false));
        assert_eq!(Scalar::Text("yes".into()).flag(), None);
    }

    #[test]
    fn escapes_are_decoded_in_keys_and_values() {
        let pick: Pick<'_> = read(r#"{"\u0061": "caf\u00e9 \"\ud83d\ude00\" \\ \/", "\"b\"": 1}"#);
        assert_eq!(pick.a.text().as_deref(), Some("café \"😀\" \\ /"));
        assert!(!pick.b, "the key `\"b\"` is not `b`");
    }

    #[test]
    fn deep_nesting_is_skipped_without_recursion() {
        let deep = format!(r#"{{"x": {}{}, "a": "found"}}"#, "[".repeat(100_000), "]".repeat(100_000));
        let pick: Pick<'_> = read(&deep);
        assert_eq!(pick.a.text().as_deref(), Some("found"));
    }

    #[test]
    fn the_scan_agrees_with_serde_json_on_what_it_reads() {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(|f| serde_json::json!(f)),
            ".*".prop_map(serde_json::Value::String),
            Just(serde_json::Value::Null),
        ];
        let value = leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::btree_map("[ab\"\\\\]{0,3}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        });
        let config = ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() };
        proptest!(config, |(value in value)| {
            let text = serde_json::to_string(&value).unwrap();
            let pick: Pick<'_> = read(&text);
            let expected = match value.get("a") {
                Some(serde_json::Value::String(s)) => Scalar::Text(s.clone().into()),
                Some(serde_json::Value::Bool(b)) => Scalar::Flag(*b),
                Some(serde_json::Value::Array(items)) => match items.first() {
                    Some(serde_json::Value::String(s)) => Scalar::Text(s.clone().into()),
                    Some(serde_json::Value::Bool(b)) => Scalar::Flag(*b),
                    _ => Scalar::Absent,
                },
                _ => Scalar::Absent,
            };
            prop_assert_eq!(pick.a, expected);
            prop_assert_eq!(pick.b, value.get("b").is_some());
        });
    }
}
