//! [`Secret<T>`]: a value that never prints.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The name [`Secret`] passes to `deserialize_newtype_struct`: halo's
/// parameter deserializer sees it and withholds any message that could
/// carry the value.
pub(crate) const SECRET_MARKER: &str = "__halo_params_Secret";

/// What a [`Secret`] prints instead of its value.
pub(crate) const REDACTED: &str = "***";

/// A secret value (typically a `SecureString` parameter) that never shows
/// itself: `Debug`, `Display` and `Serialize` all print `***`. Read it with
/// [`expose`](Secret::expose), on purpose, where it is used.
///
/// It deserializes exactly like `T`; a value that does not fit `T` is
/// reported by path only, without its content.
///
/// ```
/// use halo::params::Secret;
///
/// let key: Secret<String> = serde_json::from_str(r#""sk_live_51H""#).unwrap();
/// assert_eq!(key.expose(), "sk_live_51H");
/// assert_eq!(format!("{key:?} {key}"), "*** ***");
/// assert_eq!(serde_json::to_string(&key).unwrap(), r#""***""#);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The secret value. Never log it or put it in a response.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Unwraps the secret value.
    pub fn into_exposed(self) -> T {
        self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Secret<T> {
        Secret(value)
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> Serialize for Secret<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Secret<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret<T>, D::Error> {
        struct SecretVisitor<T>(std::marker::PhantomData<T>);

        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for SecretVisitor<T> {
            type Value = Secret<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a secret value")
            }

            fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Secret<T>, D::Error> {
                T::deserialize(deserializer).map(Secret)
            }
        }

        deserializer.deserialize_newtype_struct(SECRET_MARKER, SecretVisitor(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_in_a_struct_it_stays_hidden() {
        #[derive(Debug, Deserialize, Serialize)]
        struct Db {
            user: String,
            password: Secret<String>,
        }
        let db: Db = serde_json::from_str(r#"{"user":"app","password":"hunter2"}"#).unwrap();
        assert_eq!(db.password.expose(), "hunter2");
        let shown = format!("{db:?} {}", serde_json::to_string(&db).unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("app"));
    }

    #[test]
    fn wraps_any_type() {
        let n: Secret<u32> = serde_json::from_str("42").unwrap();
        assert_eq!(*n.expose(), 42);
        assert_eq!(n.to_string(), REDACTED);
        assert_eq!(Secret::new(7).into_exposed(), 7);
    }
}
