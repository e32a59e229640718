//! What a flag is evaluated against: the attributes of one request.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use serde_json::{Map, Value};

/// The attributes a flag's conditions read, by key (Powertools' `context`
/// dict): `tier`, `tenant_id`, `groups`...
///
/// Implemented for a JSON object (`serde_json::Map`, or a
/// `serde_json::Value`: an object's keys, nothing for any other value), for
/// `HashMap` and `BTreeMap` from `String` to `Value`, for lists and arrays
/// of `(key, value)` pairs (the last pair of a key counts, as in a Python
/// dict built from pairs), for `()` (no attributes) and for references to
/// any of them. Evaluating reads the values where they are: nothing is
/// copied.
///
/// ```
/// use halo::feature_flags::FlagContext;
/// use serde_json::json;
///
/// let pairs = [("tier", json!("premium")), ("age", json!(31))];
/// assert_eq!(pairs.value("tier"), Some(&json!("premium")));
/// assert_eq!(json!({"tier": "basic"}).value("tier"), Some(&json!("basic")));
/// assert_eq!(().value("tier"), None);
/// ```
pub trait FlagContext {
    /// The value of `key`; `None` when the context has no such key (a
    /// condition on a missing key never matches, whatever its action).
    fn value(&self, key: &str) -> Option<&Value>;
}

impl FlagContext for Map<String, Value> {
    fn value(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
}

impl FlagContext for Value {
    fn value(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|map| map.get(key))
    }
}

impl<S: BuildHasher> FlagContext for HashMap<String, Value, S> {
    fn value(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
}

impl FlagContext for BTreeMap<String, Value> {
    fn value(&self, key: &str) -> Option<&Value> {
        self.get(key)
    }
}

impl<K: AsRef<str>> FlagContext for [(K, Value)] {
    fn value(&self, key: &str) -> Option<&Value> {
        self.iter().rev().find(|(k, _)| k.as_ref() == key).map(|(_, v)| v)
    }
}

impl<K: AsRef<str>, const N: usize> FlagContext for [(K, Value); N] {
    fn value(&self, key: &str) -> Option<&Value> {
        self.as_slice().value(key)
    }
}

impl<K: AsRef<str>> FlagContext for Vec<(K, Value)> {
    fn value(&self, key: &str) -> Option<&Value> {
        self.as_slice().value(key)
    }
}

impl FlagContext for () {
    fn value(&self, _key: &str) -> Option<&Value> {
        None
    }
}

impl<T: FlagContext + ?Sized> FlagContext for &T {
    fn value(&self, key: &str) -> Option<&Value> {
        (**self).value(key)
    }
}
