//! Comparing the new handler's answer with the legacy system's.

use serde_json::Value;

/// How a JSON body is normalised before the comparison (dropping fields
/// that differ by nature: generated ids, timestamps).
pub(crate) type Normalize = dyn Fn(&mut Value) + Send + Sync;

/// The most differences a comparison names.
const MAX_DIFFERENCES: usize = 20;

/// Where the new answer differs from the legacy one: `status`, the JSON
/// pointers of the body's values that differ (after `normalize`), or
/// `body` when either body is not JSON and the bytes differ. Empty when
/// they agree. Never the values themselves (they may be personal data).
pub(crate) fn differences(legacy: (u16, &[u8]), new: (u16, &[u8]), normalize: &Normalize) -> Vec<String> {
    let mut found = Vec::new();
    if legacy.0 != new.0 {
        found.push("status".to_owned());
    }
    match (serde_json::from_slice::<Value>(legacy.1), serde_json::from_slice::<Value>(new.1)) {
        (Ok(mut old), Ok(mut new)) => {
            normalize(&mut old);
            normalize(&mut new);
            let mut pointers = Vec::new();
            compare(&old, &new, &mut String::new(), &mut pointers);
            pointers.sort();
            found.extend(pointers);
        }
        _ if legacy.1 != new.1 => found.push("body".to_owned()),
        _ => {}
    }
    found.truncate(MAX_DIFFERENCES);
    found
}

fn compare(old: &Value, new: &Value, at: &mut String, found: &mut Vec<String>) {
    if found.len() >= MAX_DIFFERENCES {
        return;
    }
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            for key in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let len = at.len();
                at.push('/');
                at.push_str(&key.replace('~', "~0").replace('/', "~1"));
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => compare(x, y, at, found),
                    _ => found.push(at.clone()),
                }
                at.truncate(len);
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                let len = at.len();
                at.push('/');
                at.push_str(&i.to_string());
                compare(x, y, at, found);
                at.truncate(len);
            }
        }
        (a, b) if a != b => found.push(if at.is_empty() { "/".to_owned() } else { at.clone() }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn same(_: &mut Value) {}

    #[test]
    fn differences_name_the_status_and_the_json_pointers_not_the_values() {
        let legacy = json!({"id": "o-1", "total": 10, "lines": [{"sku": "a"}, {"sku": "b"}], "gone": 1}).to_string();
        let new = json!({"id": "o-1", "total": 12, "lines": [{"sku": "a"}, {"sku": "c"}], "extra": true}).to_string();
        let found = differences((200, legacy.as_bytes()), (201, new.as_bytes()), &same);
        assert_eq!(found, ["status", "/extra", "/gone", "/lines/1/sku", "/total"]);
        assert!(differences((200, legacy.as_bytes()), (200, legacy.as_bytes()), &same).is_empty());
    }

    #[test]
    fn a_normalisation_hides_what_differs_by_nature() {
        let drop_time = |v: &mut Value| {
            if let Some(o) = v.as_object_mut() {
                o.remove("at");
            }
        };
        let (a, b) = (json!({"n": 1, "at": "09:00"}).to_string(), json!({"n": 1, "at": "09:01"}).to_string());
        assert!(differences((200, a.as_bytes()), (200, b.as_bytes()), &drop_time).is_empty());
        assert_eq!(differences((200, a.as_bytes()), (200, b.as_bytes()), &same), ["/at"]);
    }

    #[test]
    fn bodies_that_are_not_json_compare_as_bytes() {
        assert_eq!(differences((200, b"<p>a</p>"), (200, b"<p>b</p>"), &same), ["body"]);
        assert!(differences((200, b"\x00\x01"), (200, b"\x00\x01"), &same).is_empty());
        assert_eq!(differences((200, b"[1,2]"), (200, b"[1]"), &same), ["/"]);
    }
}
