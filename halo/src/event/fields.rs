//! Reading the few fields the event scan needs in one pass,
//! without building a `serde_json::Value`: lenient visitors descend only into
//! the objects that matter and skip the rest. Anything of an unexpected
//! shape is simply absent: extraction never fails.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Collects fields of a JSON object; the building block of the event scan.
pub(crate) trait Collect<'de>: Default {
    /// Consumes the value of `key` if it is wanted; returns `false` to have
    /// it skipped.
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;
}

/// `T` read from an object; any other JSON value gives `T::default()`.
#[derive(Default)]
pub(crate) struct Lenient<T>(pub(crate) T);

impl<'de, T: Collect<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ObjectVisitor(PhantomData)).map(Lenient)
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

macro_rules! ignore_scalars {
    ($value:ty, $default:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<$value, E> {
            Ok($default)
        }
        fn visit_i64<E>(self, _: i64) -> Result<$value, E> {
            Ok($default)
        }
        fn visit_u64<E>(self, _: u64) -> Result<$value, E> {
            Ok($default)
        }
        fn visit_f64<E>(self, _: f64) -> Result<$value, E> {
            Ok($default)
        }
        fn visit_unit<E>(self) -> Result<$value, E> {
            Ok($default)
        }
    };
}

impl<'de, T: Collect<'de>> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut collected = T::default();
        while let Some(key) = map.next_key::<KeyText<'de>>()? {
            if !collected.field(key.as_str(), &mut map)? {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(collected)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(T::default())
    }

    fn visit_str<E>(self, _: &str) -> Result<T, E> {
        Ok(T::default())
    }

    ignore_scalars!(T, T::default());
}

/// An object key, borrowed when it has no escapes.
pub(crate) enum KeyText<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl KeyText<'_> {
    fn as_str(&self) -> &str {
        match self {
            KeyText::Borrowed(text) => text,
            KeyText::Owned(text) => text,
        }
    }
}

impl<'de> Deserialize<'de> for KeyText<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = KeyText<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, text: &'de str) -> Result<KeyText<'de>, E> {
                Ok(KeyText::Borrowed(text))
            }
            fn visit_str<E>(self, text: &str) -> Result<KeyText<'de>, E> {
                Ok(KeyText::Owned(text.to_owned()))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

/// A string or boolean value; for an array, its first element (multi-value
/// headers). Anything else is `Absent`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) enum Scalar {
    #[default]
    Absent,
    Text(String),
    Flag(bool),
}

impl Scalar {
    pub(crate) fn text(self) -> Option<String> {
        match self {
            Scalar::Text(text) => Some(text),
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

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, text: &str) -> Result<Scalar, E> {
        Ok(Scalar::Text(text.to_owned()))
    }

    fn visit_string<E>(self, text: String) -> Result<Scalar, E> {
        Ok(Scalar::Text(text))
    }

    fn visit_bool<E>(self, flag: bool) -> Result<Scalar, E> {
        Ok(Scalar::Flag(flag))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        let first = seq.next_element::<Scalar>()?.unwrap_or_default();
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Absent)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Scalar, E> {
        Ok(Scalar::Absent)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Scalar, E> {
        Ok(Scalar::Absent)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Absent)
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Absent)
    }
}

/// Whether a key was present (its value is skipped).
pub(crate) fn present<'de, A: MapAccess<'de>>(map: &mut A) -> Result<bool, A::Error> {
    map.next_value::<IgnoredAny>()?;
    Ok(true)
}

/// The first element of an array, read as `T`; anything else gives the default.
#[derive(Default)]
pub(crate) struct First<T>(pub(crate) T);

impl<'de, T: Collect<'de>> Deserialize<'de> for First<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstVisitor<T>(PhantomData<T>);
        impl<'de, T: Collect<'de>> Visitor<'de> for FirstVisitor<T> {
            type Value = First<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<First<T>, A::Error> {
                let first = seq.next_element::<Lenient<T>>()?.map(|l| l.0).unwrap_or_default();
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(First(first))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<First<T>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(First(T::default()))
            }
            fn visit_str<E>(self, _: &str) -> Result<First<T>, E> {
                Ok(First(T::default()))
            }
            ignore_scalars!(First<T>, First(T::default()));
        }
        deserializer.deserialize_any(FirstVisitor(PhantomData))
    }
}

/// Reads `T` from raw JSON; malformed JSON gives the default.
pub(crate) fn read<'de, T: Collect<'de>>(json: &'de str) -> T {
    serde_json::from_str::<Lenient<T>>(json).map(|l| l.0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Pick {
        a: Scalar,
        b: bool,
    }

    impl<'de> Collect<'de> for Pick {
        fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
            match key {
                "a" => self.a = map.next_value()?,
                "b" => self.b = present(map)?,
                _ => return Ok(false),
            }
            Ok(true)
        }
    }

    #[test]
    fn picks_fields_and_skips_the_rest() {
        let pick: Pick = read(r#"{"x": {"deep": [1, {"a": 2}]}, "a": "yes", "b": null}"#);
        assert_eq!(pick.a, Scalar::Text("yes".into()));
        assert!(pick.b);
    }

    #[test]
    fn any_shape_is_absent_not_an_error() {
        for json in ["[1,2]", "\"text\"", "null", "42", "true", "{oops", r#"{"a": {"n": 1}}"#, r#"{"a": 5}"#] {
            let pick: Pick = read(json);
            assert_eq!(pick.a, Scalar::Absent, "{json}");
        }
    }

    #[test]
    fn arrays_give_their_first_element_and_flags_read_strings() {
        let pick: Pick = read(r#"{"a": ["first", "second"]}"#);
        assert_eq!(pick.a.text().as_deref(), Some("first"));
        assert_eq!(Scalar::Text("TRUE".into()).flag(), Some(true));
        assert_eq!(Scalar::Flag(false).flag(), Some(false));
        assert_eq!(Scalar::Text("yes".into()).flag(), None);
    }
}
