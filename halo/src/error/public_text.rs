//! Text that goes into public error messages. A public message never carries
//! what the caller sent beyond a short, sanitized field path: an event's
//! values, unknown keys and variants are the caller's own (possibly hostile)
//! input, so they are described, never quoted.

use serde_json::error::Category;

/// The longest field path a public message carries.
pub(crate) const MAX_PATH_LEN: usize = 64;

/// The longest reason a public message carries.
const MAX_REASON_LEN: usize = 160;

/// `path` made safe to show: printable ASCII except the quote, backtick and
/// backslash (anything else becomes `?`), at most [`MAX_PATH_LEN`]
/// characters (longer paths end in `...`).
pub(crate) fn field_path(path: &str) -> String {
    printable(path, MAX_PATH_LEN)
}

/// Why serde rejected an input, in words that never quote it: serde_json's
/// syntax messages (fixed texts) without their position, and for a value of
/// the wrong shape only what was expected (`invalid type, expected u64`,
/// `unknown field, expected one of ...`, `missing field \`id\``). A custom
/// message of a `Deserialize` impl, which may quote the input, becomes
/// `invalid value`.
pub(crate) fn decode_reason(err: &serde_json::Error) -> String {
    let mut text = err.to_string();
    if let Some(at) = text.rfind(" at line ") {
        text.truncate(at);
    }
    if err.classify() == Category::Data {
        text = data_reason(&text);
    }
    printable(&text, MAX_REASON_LEN)
}

/// The caller-free form of a serde data error message.
fn data_reason(text: &str) -> String {
    let expected = |text: &str| text.rfind(", expected ").map(|at| text[at..].to_owned());
    for prefix in ["invalid type", "invalid value", "unknown variant", "unknown field"] {
        if text.starts_with(prefix) {
            return match expected(text) {
                Some(expected) => format!("{prefix}{expected}"),
                None => prefix.to_owned(),
            };
        }
    }
    let names_our_field =
        ["missing field `", "duplicate field `", "invalid length "].iter().any(|p| text.starts_with(p));
    if names_our_field { text.to_owned() } else { "invalid value".to_owned() }
}

/// `text` with every character outside printable ASCII (and `"`, `` ` ``
/// inside a path) replaced, cut to `max` characters.
fn printable(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max + 3));
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out.push_str("...");
            break;
        }
        out.push(if (' '..='~').contains(&c) && c != '\\' && c != '"' { c } else { '?' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        decode_reason(&serde_json::from_str::<T>(json).unwrap_err())
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Order {
        id: u64,
        kind: Kind,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    enum Kind {
        Card,
    }

    #[test]
    fn reasons_never_quote_the_input() {
        assert_eq!(reason::<Order>(r#"{"id":"<script>","kind":"Card"}"#), "invalid type, expected u64");
        assert_eq!(reason::<Order>(r#"{"id":1,"kind":"<img src=x>"}"#), "unknown variant, expected `Card`");
        assert_eq!(
            reason::<Order>(r#"{"id":1,"kind":"Card","evil\nfield":1}"#),
            "unknown field, expected `id` or `kind`"
        );
        assert_eq!(reason::<Order>(r#"{"kind":"Card"}"#), "missing field `id`");
        assert_eq!(reason::<Order>(r#"{"id":1,"id":2,"kind":"Card"}"#), "duplicate field `id`");
        assert_eq!(reason::<Order>(r#"{"id":1,"#), "EOF while parsing a value");
        assert_eq!(reason::<Order>(r#"{"id":1,"kind":"Card"} trailing"#), "trailing characters");
        assert_eq!(reason::<std::net::Ipv4Addr>(r#""not-an-ip <b>""#), "invalid value");
    }

    #[test]
    fn paths_are_printable_and_short() {
        assert_eq!(field_path("headers.x-ok"), "headers.x-ok");
        assert_eq!(field_path("headers.a\"b\\c\nd\u{e9}"), "headers.a?b?c?d?");
        let long = field_path(&format!("headers.{}", "h".repeat(10_000)));
        assert_eq!(long.len(), MAX_PATH_LEN + 3);
        assert!(long.ends_with("..."));
    }
}
