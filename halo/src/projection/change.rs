//! [`Change`]: one change of a source table, as its stream delivered it.

use std::collections::BTreeMap;

use aws_lambda_events::event::dynamodb::EventRecord;
use serde::de::DeserializeOwned;
use serde_dynamo::AttributeValue;
use serde_json::Value;

use super::write::number;
use crate::{Error, ErrorKind};

/// One change of a source item: its key, its place in the item's history
/// (the stream's sequence number, which grows with each change of the
/// item), and the item before and after (DynamoDB's `OldImage` and
/// `NewImage`, as JSON).
///
/// ```
/// use halo::projection::Change;
/// use serde_json::json;
///
/// let change = Change::new("post-1", 7, None, Some(json!({"author": "ada", "views": 3})));
/// #[derive(serde::Deserialize)]
/// struct Post { author: String, views: u64 }
/// let post: Post = change.after()?.expect("an insert has an after image");
/// assert_eq!((post.author.as_str(), post.views, change.is_insert()), ("ada", 3, true));
/// # Ok::<(), halo::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    key: String,
    sequence: u128,
    before: Option<Value>,
    after: Option<Value>,
}

impl Change {
    /// A change of the item `key` with sequence number `sequence`, from
    /// `before` to `after` (`None` before an insert, after a removal).
    pub fn new(key: impl Into<String>, sequence: u128, before: Option<Value>, after: Option<Value>) -> Change {
        Change { key: key.into(), sequence, before, after }
    }

    /// The change a DynamoDB Streams record describes. The key is the
    /// item's key as its table names it: the value of a partition key
    /// alone (`post-1` for `{"id": {"S": "post-1"}}`, a number's digits),
    /// and for a composite key the record's `Keys` as compact JSON with
    /// sorted names (`{"pk":"author#ada","sk":"post#1"}`); the same for
    /// every change of the item.
    ///
    /// Images become JSON: numbers as numbers (as text beyond what JSON
    /// holds exactly), binary values as base64 text, sets as arrays.
    ///
    /// # Errors
    ///
    /// A record without keys or a sequence number, or a sequence number
    /// that is not a number (`InvalidEvent`, naming neither the record's
    /// keys nor its values).
    pub fn from_record(record: &EventRecord) -> Result<Change, Error> {
        let stream = &record.change;
        let invalid = |what: &'static str| Error::new(ErrorKind::BadRequest, what).with_code("InvalidEvent");
        let sequence = stream
            .sequence_number
            .as_deref()
            .ok_or_else(|| invalid("a stream record has no sequence number"))?
            .parse::<u128>()
            .map_err(|_| invalid("a stream record's sequence number is not a number"))?;
        let image = |item: &serde_dynamo::Item| (!item.is_empty()).then(|| object(item));
        let keys: BTreeMap<&String, Value> = stream.keys.iter().map(|(name, value)| (name, json(value))).collect();
        if keys.is_empty() {
            return Err(invalid("a stream record has no keys"));
        }
        let key = match keys.values().next() {
            Some(Value::String(alone)) if keys.len() == 1 => alone.clone(),
            Some(Value::Number(alone)) if keys.len() == 1 => alone.to_string(),
            _ => serde_json::to_string(&keys).map_err(|_| invalid("a stream record's keys are not an item"))?,
        };
        let before = image(&stream.old_image);
        let after = if record.event_name == "REMOVE" { None } else { image(&stream.new_image) };
        Ok(Change { key, sequence, before, after })
    }

    /// The source item's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The stream's sequence number of this change.
    pub fn sequence(&self) -> u128 {
        self.sequence
    }

    /// The item before the change, as `T` (`None` for an insert).
    ///
    /// # Errors
    ///
    /// An image that is not a `T` (`InvalidEvent`).
    pub fn before<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        decode(self.before.as_ref())
    }

    /// The item after the change, as `T` (`None` for a removal).
    ///
    /// # Errors
    ///
    /// An image that is not a `T` (`InvalidEvent`).
    pub fn after<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        decode(self.after.as_ref())
    }

    /// Whether the item is new.
    pub fn is_insert(&self) -> bool {
        self.before.is_none() && self.after.is_some()
    }

    /// Whether the item was removed.
    pub fn is_removal(&self) -> bool {
        self.after.is_none()
    }
}

/// A DynamoDB item as JSON.
fn object(item: &serde_dynamo::Item) -> Value {
    Value::Object(item.iter().map(|(name, value)| (name.clone(), json(value))).collect())
}

/// A DynamoDB attribute as JSON: numbers as numbers (as text when JSON
/// cannot hold them exactly), binary as base64 text, sets as arrays.
fn json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::N(text) => number(text),
        AttributeValue::S(text) => Value::String(text.clone()),
        AttributeValue::Bool(flag) => Value::Bool(*flag),
        AttributeValue::B(bytes) => Value::String(crate::base64::encode(bytes)),
        AttributeValue::Null(_) => Value::Null,
        AttributeValue::M(map) => Value::Object(map.iter().map(|(name, value)| (name.clone(), json(value))).collect()),
        AttributeValue::L(list) => Value::Array(list.iter().map(json).collect()),
        AttributeValue::Ss(set) => Value::Array(set.iter().cloned().map(Value::String).collect()),
        AttributeValue::Ns(set) => Value::Array(set.iter().map(|n| number(n)).collect()),
        AttributeValue::Bs(set) => Value::Array(set.iter().map(|b| Value::String(crate::base64::encode(b))).collect()),
    }
}

fn decode<T: DeserializeOwned>(image: Option<&Value>) -> Result<Option<T>, Error> {
    image
        .map(|value| {
            T::deserialize(value).map_err(|_| {
                Error::new(ErrorKind::BadRequest, "a stream record's image does not have the projection's shape")
                    .with_code("InvalidEvent")
            })
        })
        .transpose()
}
