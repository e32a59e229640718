//! [`ViewWrite`]: what a change does to a view, and how it applies to a
//! view item.

use std::cmp::Ordering;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::{Error, ErrorKind};

/// One write to one item of a view, made for one source change.
///
/// Views are named; each holds items by key. Three kinds of view are
/// built in:
///
/// - **counters**: [`ViewWrite::add`] adds to a numeric field (posts per
///   author, views per day);
/// - **materialized views**: [`ViewWrite::put`] replaces an item with a
///   reshaped one, [`ViewWrite::delete`] removes it;
/// - **bounded index tables**: [`ViewWrite::rank`] sets a member's score
///   in an index that keeps its `keep` best members (the 100 most viewed
///   posts), [`ViewWrite::unrank`] takes a member out.
///
/// ```
/// use halo::projection::ViewWrite;
///
/// let writes = vec![
///     ViewWrite::add("author-summary", "ada", "posts", 1),
///     ViewWrite::rank("most-viewed", "all", "post-1", 42.0, 100),
/// ];
/// assert_eq!(writes.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ViewWrite {
    /// Adds `by` to the number in `field` of item `key` of `view` (a
    /// missing item or field counts from 0).
    Add {
        /// The view.
        view: String,
        /// The item's key.
        key: String,
        /// The numeric field.
        field: String,
        /// What to add (negative to subtract).
        by: i64,
    },
    /// Replaces item `key` of `view` with `item` (a JSON object).
    Put {
        /// The view.
        view: String,
        /// The item's key.
        key: String,
        /// The item's fields.
        item: Map<String, Value>,
    },
    /// Removes item `key` of `view`.
    Delete {
        /// The view.
        view: String,
        /// The item's key.
        key: String,
    },
    /// Sets (`Some`) or removes (`None`) `member`'s score in index `key`
    /// of `view`, which keeps its `keep` highest scores.
    Rank {
        /// The view.
        view: String,
        /// The index's key.
        key: String,
        /// The member ranked.
        member: String,
        /// Its score, or `None` to take it out.
        score: Option<f64>,
        /// How many members the index keeps.
        keep: usize,
    },
}

impl ViewWrite {
    /// Adds `by` to `field` of item `key` of `view`.
    pub fn add(view: impl Into<String>, key: impl Into<String>, field: impl Into<String>, by: i64) -> ViewWrite {
        ViewWrite::Add { view: view.into(), key: key.into(), field: field.into(), by }
    }

    /// Replaces item `key` of `view` with `item`.
    ///
    /// # Errors
    ///
    /// `item` does not serialize to a JSON object (`InvalidView`).
    pub fn put(view: impl Into<String>, key: impl Into<String>, item: &impl Serialize) -> Result<ViewWrite, Error> {
        match serde_json::to_value(item) {
            Ok(Value::Object(item)) => Ok(ViewWrite::Put { view: view.into(), key: key.into(), item }),
            _ => {
                Err(Error::new(ErrorKind::Internal, "a view item must serialize to a JSON object")
                    .with_code("InvalidView"))
            }
        }
    }

    /// Removes item `key` of `view`.
    pub fn delete(view: impl Into<String>, key: impl Into<String>) -> ViewWrite {
        ViewWrite::Delete { view: view.into(), key: key.into() }
    }

    /// Sets `member`'s `score` in index `key` of `view`, which keeps the
    /// `keep` highest scores.
    pub fn rank(
        view: impl Into<String>,
        key: impl Into<String>,
        member: impl Into<String>,
        score: f64,
        keep: usize,
    ) -> ViewWrite {
        ViewWrite::Rank { view: view.into(), key: key.into(), member: member.into(), score: Some(score), keep }
    }

    /// Takes `member` out of index `key` of `view`.
    pub fn unrank(view: impl Into<String>, key: impl Into<String>, member: impl Into<String>) -> ViewWrite {
        ViewWrite::Rank { view: view.into(), key: key.into(), member: member.into(), score: None, keep: usize::MAX }
    }

    /// The view written.
    pub fn view(&self) -> &str {
        self.target().0
    }

    /// The key of the item written.
    pub fn key(&self) -> &str {
        self.target().1
    }

    fn target(&self) -> (&str, &str) {
        match self {
            ViewWrite::Add { view, key, .. }
            | ViewWrite::Put { view, key, .. }
            | ViewWrite::Delete { view, key }
            | ViewWrite::Rank { view, key, .. } => (view, key),
        }
    }

    /// The item after this write, given the item before it: the one
    /// meaning of each write, for every store.
    pub fn applied_to(&self, item: Option<Value>) -> Option<Value> {
        match self {
            ViewWrite::Add { field, by, .. } => {
                let mut item = object(item);
                let now = item.get(field).and_then(Value::as_i64).unwrap_or(0).saturating_add(*by);
                item.insert(field.clone(), json!(now));
                Some(Value::Object(item))
            }
            ViewWrite::Put { item, .. } => Some(Value::Object(item.clone())),
            ViewWrite::Delete { .. } => None,
            ViewWrite::Rank { member, score, keep, .. } => {
                let mut entries: Vec<(String, f64)> = item
                    .as_ref()
                    .and_then(|item| item.get("entries"))
                    .and_then(Value::as_array)
                    .map(|entries| {
                        entries
                            .iter()
                            .filter_map(|e| Some((e.get("member")?.as_str()?.to_owned(), e.get("score")?.as_f64()?)))
                            .collect()
                    })
                    .unwrap_or_default();
                entries.retain(|(m, _)| m != member);
                if let Some(score) = score {
                    entries.push((member.clone(), *score));
                }
                entries.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(Ordering::Equal).then_with(|| a.0.cmp(&b.0)));
                entries.truncate(*keep);
                let entries: Vec<Value> = entries.into_iter().map(|(m, s)| json!({"member": m, "score": s})).collect();
                Some(json!({ "entries": entries }))
            }
        }
    }
}

/// A DynamoDB number as JSON: an integer or a float, as text when JSON
/// cannot hold it.
pub(crate) fn number(text: &str) -> Value {
    text.parse::<i64>()
        .map(Value::from)
        .ok()
        .or_else(|| text.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(Value::Number))
        .unwrap_or_else(|| Value::String(text.to_owned()))
}

fn object(item: Option<Value>) -> Map<String, Value> {
    match item {
        Some(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::ViewWrite;

    #[test]
    fn an_index_keeps_its_best_members_in_order() {
        let mut item = None;
        for (member, score) in [("a", 1.0), ("b", 5.0), ("c", 3.0), ("a", 9.0), ("d", 0.5)] {
            item = ViewWrite::rank("top", "all", member, score, 3).applied_to(item);
        }
        let members: Vec<&str> = item.as_ref().unwrap()["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["member"].as_str().unwrap())
            .collect();
        assert_eq!(members, ["a", "b", "c"]);
        let item = ViewWrite::unrank("top", "all", "b").applied_to(item);
        assert_eq!(item.unwrap()["entries"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn counters_count_from_zero_and_puts_replace() {
        let item = ViewWrite::add("v", "k", "posts", 2).applied_to(None);
        let item = ViewWrite::add("v", "k", "posts", -1).applied_to(item);
        assert_eq!(item, Some(json!({"posts": 1})));
        let item = ViewWrite::put("v", "k", &json!({"title": "t"})).unwrap().applied_to(item);
        assert_eq!(item, Some(json!({"title": "t"})));
        assert!(ViewWrite::put("v", "k", &json!([1])).is_err());
    }
}
