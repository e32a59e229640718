//! Idempotency keys: canonical JSON, field selection by JSON pointer, md5.
//!
//! The key of an invocation is `<prefix>#<md5 hex of the canonical JSON of
//! the selected payload>`. Canonical JSON has object keys sorted (by their
//! UTF-8 bytes) and no insignificant whitespace, so two payloads that differ
//! only in key order or formatting give the same key.

use serde_json::Value;

/// Writes `value` as canonical JSON: object keys sorted, no whitespace.
pub(crate) fn canonical_json(value: &Value) -> String {
    let mut out = String::with_capacity(64);
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, value)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(key, out);
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        // Null, booleans and numbers print the same whatever the map order.
        other => out.push_str(&other.to_string()),
    }
}

fn write_string(s: &str, out: &mut String) {
    // serde_json's string escaping is already canonical (minimal escapes).
    out.push_str(&Value::String(s.to_owned()).to_string());
}

pub(crate) use crate::digest::md5_hex;

/// The md5 hex of the canonical JSON of `value`.
pub(crate) fn hash_value(value: &Value) -> String {
    md5_hex(canonical_json(value).as_bytes())
}

/// Resolves an RFC 6901 JSON pointer in `value`, parsing JSON held in a
/// string on the way (an API Gateway `body`): `/body/order_id` finds
/// `order_id` inside the JSON text of `body`.
///
/// Returns `None` when the path does not exist.
pub(crate) fn select(value: &Value, pointer: &str) -> Option<Value> {
    if pointer.is_empty() {
        return Some(value.clone());
    }
    let rest = pointer.strip_prefix('/')?;
    let mut current = std::borrow::Cow::Borrowed(value);
    for token in rest.split('/') {
        let token = token.replace("~1", "/").replace("~0", "~");
        if let Value::String(text) = current.as_ref() {
            // A string in the middle of a path: JSON held in a string.
            current = std::borrow::Cow::Owned(serde_json::from_str::<Value>(text).ok()?);
        }
        let next = match current.as_ref() {
            Value::Object(map) => map.get(&token)?.clone(),
            Value::Array(items) => items.get(parse_index(&token)?)?.clone(),
            _ => return None,
        };
        current = std::borrow::Cow::Owned(next);
    }
    Some(current.into_owned())
}

fn parse_index(token: &str) -> Option<usize> {
    if token.len() > 1 && token.starts_with('0') {
        return None;
    }
    token.parse().ok()
}

/// Selects the fields at `pointers` from `payload`: the whole payload when
/// `pointers` is empty, the one value for one pointer, an array (in pointer
/// order, `null` for absent fields) for several. `None` when every selected
/// field is absent or `null`.
pub(crate) fn select_fields<S: AsRef<str>>(payload: &Value, pointers: &[S]) -> Option<Value> {
    let selected = match pointers {
        [] => payload.clone(),
        [one] => select(payload, one.as_ref()).unwrap_or(Value::Null),
        many => Value::Array(many.iter().map(|p| select(payload, p.as_ref()).unwrap_or(Value::Null)).collect()),
    };
    let all_null = match &selected {
        Value::Null => true,
        Value::Array(items) if pointers.len() > 1 => items.iter().all(Value::is_null),
        _ => false,
    };
    (!all_null).then_some(selected)
}

/// The idempotency key for an already selected payload:
/// `<prefix>#<md5 hex of its canonical JSON>`.
///
/// ```
/// let key = halo::idempotency::key_for("charge", &serde_json::json!("p-1"));
/// assert!(key.starts_with("charge#") && key.len() == "charge#".len() + 32);
/// ```
pub fn key_for(prefix: &str, selected: &Value) -> String {
    format!("{prefix}#{}", hash_value(selected))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_drops_whitespace() {
        let a: Value =
            serde_json::from_str("{ \"z\": {\"b\": 1, \"a\": [ {\"y\":2,\"x\":1} ]},\n \"a\": \"\\u00e9\\n\" }")
                .unwrap();
        assert_eq!(canonical_json(&a), "{\"a\":\"é\\n\",\"z\":{\"a\":[{\"x\":1,\"y\":2}],\"b\":1}}");
    }

    #[test]
    fn equal_payloads_give_equal_keys_whatever_their_order_and_formatting() {
        let a: Value = serde_json::from_str(r#"{"order": {"id": "o-1", "lines": [1, 2]}, "amount": 10}"#).unwrap();
        let b: Value =
            serde_json::from_str("{\n  \"amount\" : 10,\n  \"order\" : { \"lines\" : [ 1 , 2 ], \"id\" : \"o-1\" }\n}")
                .unwrap();
        assert_eq!(key_for("p", &a), key_for("p", &b));
        let c = json!({ "order": { "id": "o-1", "lines": [2, 1] }, "amount": 10 });
        assert_ne!(key_for("p", &a), key_for("p", &c), "array order is significant");
    }

    #[test]
    fn md5_matches_known_vectors() {
        assert_eq!(md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
        // Powertools-compatible: the hash of the canonical text.
        assert_eq!(hash_value(&json!("abc")), md5_hex(b"\"abc\""));
    }

    #[test]
    fn pointers_escape_and_index() {
        let v = json!({ "a/b": { "m~n": [10, 20] } });
        assert_eq!(select(&v, "/a~1b/m~0n/1"), Some(json!(20)));
        assert_eq!(select(&v, "/a~1b/m~0n/01"), None);
        assert_eq!(select(&v, "no-slash"), None);
        assert_eq!(select(&json!({ "body": "not json" }), "/body/x"), None);
        assert_eq!(select(&json!({ "body": "text" }), "/body"), Some(json!("text")));
    }

    #[test]
    fn composite_keys_keep_pointer_order() {
        let v = json!({ "a": 1, "b": 2 });
        assert_ne!(select_fields(&v, &["/a", "/b"]), select_fields(&v, &["/b", "/a"]));
        assert_eq!(select_fields(&v, &[] as &[&str]), Some(v.clone()));
        assert_eq!(select_fields(&json!(null), &[] as &[&str]), None);
    }
}

#[cfg(test)]
mod examples {
    #[test]
    fn canonical_json_example() {
        let value = serde_json::json!({ "b": [1, { "d": null, "c": "x" }], "a": true });
        assert_eq!(super::canonical_json(&value), r#"{"a":true,"b":[1,{"c":"x","d":null}]}"#);
    }

    #[test]
    fn md5_hex_example() {
        assert_eq!(super::md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
    }

    #[test]
    fn hash_value_example() {
        use super::hash_value;
        use serde_json::json;

        // Key order and whitespace do not matter.
        let a: serde_json::Value = serde_json::from_str(r#"{"id": 1, "amount": 20}"#).unwrap();
        let b: serde_json::Value = serde_json::from_str(r#"{"amount":20,"id":1}"#).unwrap();
        assert_eq!(hash_value(&a), hash_value(&b));
        assert_ne!(hash_value(&a), hash_value(&json!({ "id": 1, "amount": 21 })));
    }

    #[test]
    fn select_example() {
        use super::select;
        use serde_json::json;

        let event = json!({ "body": "{\"order_id\": \"o-1\"}", "headers": { "x-api-key": "k" } });
        assert_eq!(select(&event, "/body/order_id"), Some(json!("o-1")));
        assert_eq!(select(&event, "/headers/x-api-key"), Some(json!("k")));
        assert_eq!(select(&event, "/body/missing"), None);
        assert_eq!(select(&event, ""), Some(event.clone()));
    }

    #[test]
    fn select_fields_example() {
        use super::select_fields;
        use serde_json::json;

        let event = json!({ "a": 1, "b": null });
        assert_eq!(select_fields(&event, &["/a"]), Some(json!(1)));
        assert_eq!(select_fields(&event, &["/a", "/c"]), Some(json!([1, null])));
        assert_eq!(select_fields(&event, &["/b", "/c"]), None);
    }
}
