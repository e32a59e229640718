//! Picking a few keys out of raw JSON without building a `Value`: one scan of
//! the object, borrowing the wanted values as raw JSON for a second look.
//! Anything of an unexpected shape is simply "absent": extraction never fails.

use std::borrow::Cow;
use std::fmt;

use serde::Deserializer as _;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

/// The values of `keys` in the JSON object `raw` (`None` for a missing key,
/// or when `raw` is not an object). With `ignore_case`, keys match ASCII
/// case-insensitively (HTTP header names).
pub(crate) fn pick<'a, const N: usize>(raw: &'a str, keys: [&str; N], ignore_case: bool) -> [Option<&'a RawValue>; N] {
    let mut de = serde_json::Deserializer::from_str(raw);
    de.deserialize_any(PickVisitor { keys, ignore_case, lifetime: std::marker::PhantomData }).unwrap_or([None; N])
}

struct PickVisitor<'k, 'a, const N: usize> {
    keys: [&'k str; N],
    ignore_case: bool,
    lifetime: std::marker::PhantomData<&'a ()>,
}

impl<'de, const N: usize> Visitor<'de> for PickVisitor<'_, 'de, N> {
    type Value = [Option<&'de RawValue>; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = [None; N];
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let slot = self
                .keys
                .iter()
                .position(|wanted| if self.ignore_case { wanted.eq_ignore_ascii_case(&key) } else { *wanted == key });
            match slot {
                Some(i) if found[i].is_none() => found[i] = Some(map.next_value::<&'de RawValue>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok([None; N])
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok([None; N])
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok([None; N])
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok([None; N])
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok([None; N])
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok([None; N])
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok([None; N])
    }
}

/// The first element of a JSON array (raw), or `None`.
pub(crate) fn first_element(raw: &RawValue) -> Option<&RawValue> {
    struct First;
    impl<'de> Visitor<'de> for First {
        type Value = Option<&'de RawValue>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element::<&'de RawValue>()?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    de.deserialize_seq(First).ok().flatten()
}

/// A JSON string's value; for an array, its first string (multi-value
/// headers). Anything else is `None`.
pub(crate) fn string(raw: Option<&RawValue>) -> Option<String> {
    let raw = raw?;
    match raw.get().as_bytes().first() {
        Some(b'"') => serde_json::from_str(raw.get()).ok(),
        Some(b'[') => string(first_element(raw)),
        _ => None,
    }
}

/// `true`/`false` from a JSON boolean or a string `"true"`/`"false"` (any
/// case), else `None`.
pub(crate) fn boolean(raw: Option<&RawValue>) -> Option<bool> {
    let raw = raw?;
    match raw.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => match string(Some(raw))?.trim() {
            v if v.eq_ignore_ascii_case("true") => Some(true),
            v if v.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_keys_and_ignores_the_rest() {
        let [a, c] = pick(r#"{"a": {"x": [1,2]}, "b": "skip", "c": "three"}"#, ["a", "c"], false);
        assert_eq!(a.unwrap().get(), r#"{"x": [1,2]}"#);
        assert_eq!(string(c).as_deref(), Some("three"));
    }

    #[test]
    fn header_names_match_case_insensitively() {
        let [id] = pick(r#"{"X-Correlation-ID": "abc"}"#, ["x-correlation-id"], true);
        assert_eq!(string(id).as_deref(), Some("abc"));
    }

    #[test]
    fn any_shape_is_absent_not_an_error() {
        for raw in ["[1,2]", "\"text\"", "null", "42", "true"] {
            assert!(pick(raw, ["a"], false)[0].is_none());
        }
        let [v] = pick(r#"{"a": 5}"#, ["a"], false);
        assert_eq!(string(v), None);
    }

    #[test]
    fn booleans_from_bools_and_strings() {
        let [a, b, c, d] = pick(r#"{"a": true, "b": "TRUE", "c": ["false"], "d": "yes"}"#, ["a", "b", "c", "d"], false);
        assert_eq!((boolean(a), boolean(b), boolean(c), boolean(d)), (Some(true), Some(true), Some(false), None));
    }
}
