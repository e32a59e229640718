//! [`DynamoDbViews`]: views in one DynamoDB table, each change's writes
//! and its marker in one transaction.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use serde_json::{Map, Value};

use super::store::{Applied, Guard, ViewStore};
use super::write::{ViewWrite, number};
use crate::durable::dynamodb::{Item, Table, store_error, to_n, to_s};
use crate::durable::{KeyAttribute, StoreError, TableSpec};
use crate::future::BoxFuture;
use crate::platform::Clock as _;

/// The partition key of every item.
const KEY: &str = "pk";
/// A marker's last applied sequence number.
const SEQUENCE: &str = "seq";
/// An index item's version, for its conditional replacement.
const VERSION: &str = "version";
/// When DynamoDB's TTL removes a marker (epoch seconds).
const EXPIRES: &str = "expires";
/// How long a marker is kept: past the stream's 24-hour retention, so no
/// redelivery can outlive it.
const MARKER_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often a change whose index items moved under it is tried again.
const INDEX_ATTEMPTS: usize = 5;

/// Views in one DynamoDB table (partition key `pk`, TTL attribute
/// `expires`): item `key` of view `view` at `pk = "<view>#<key>"`, its
/// fields as attributes; each projection's marker per source item at
/// `pk = "applied#<projection>#<source>"`.
///
/// A change's writes are one `TransactWriteItems` request: the marker,
/// conditioned on the change being newer than the last one applied, and
/// one write per view item (the writes of one item merged: counters in
/// one `ADD`). A redelivered change fails the marker's condition and
/// writes nothing: at most one refused request. An index item is read
/// once per container and then replaced on its version, so the happy path
/// reads nothing. A change may write at most 99 view items.
///
/// The function needs `dynamodb:GetItem`, `dynamodb:PutItem`,
/// `dynamodb:UpdateItem` and `dynamodb:DeleteItem` on the table: IAM
/// authorizes each action of a `TransactWriteItems` as its own operation.
#[derive(Debug)]
pub struct DynamoDbViews {
    table: Table,
    /// Index items as this container last wrote or read them: version and
    /// value.
    indexes: Mutex<HashMap<String, (u64, Option<Value>)>>,
}

impl DynamoDbViews {
    /// The views in `table`.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbViews {
        DynamoDbViews { table: Table::new(client, table), indexes: Mutex::new(HashMap::new()) }
    }

    /// Creates the table (on demand, with TTL on `expires`) and waits
    /// until it is active; an existing table is left as it is.
    ///
    /// # Errors
    ///
    /// The table cannot be created or described.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        self.table.create(&table_spec()).await
    }

    async fn apply_once(&self, guard: &Guard, writes: &[ViewWrite]) -> Result<Option<Applied>, StoreError> {
        let mut request = vec![self.marker(guard)?];
        let mut new_indexes = Vec::new();
        for (pk, group) in by_item(writes) {
            if group.iter().all(|w| matches!(w, ViewWrite::Add { .. })) {
                request.push(add(self.table.name(), &pk, &group)?);
            } else if group.iter().any(|w| matches!(w, ViewWrite::Rank { .. })) {
                let (version, current) = self.index(&pk).await?;
                let next = group.iter().fold(current, |item, write| write.applied_to(item));
                request.push(replace_index(self.table.name(), &pk, version, next.as_ref())?);
                new_indexes.push((pk, version + 1, next));
            } else {
                let from_last_replace =
                    group.iter().rposition(|w| !matches!(w, ViewWrite::Add { .. })).unwrap_or_default();
                let item = group[from_last_replace..].iter().fold(None, |item, write| write.applied_to(item));
                request.push(replace(self.table.name(), &pk, item.as_ref())?);
            }
        }
        if request.len() > 100 {
            return Err(StoreError::too_large(
                "TransactWriteItems",
                format!("one change writes {} view items; at most 99 fit one transaction", request.len() - 1),
            ));
        }
        let sent = self.table.client().transact_write_items().set_transact_items(Some(request)).send().await;
        match sent {
            Ok(_) => {
                let mut indexes = crate::lock::lock(&self.indexes);
                for (pk, version, value) in new_indexes {
                    indexes.insert(pk, (version, value));
                }
                Ok(Some(Applied::Written))
            }
            Err(err) => {
                let reasons: Vec<Option<String>> = match err.as_service_error() {
                    Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
                        cancelled.cancellation_reasons().iter().map(|r| r.code().map(str::to_owned)).collect()
                    }
                    _ => return Err(store_error("TransactWriteItems", err)),
                };
                let failed = |i: usize| reasons.get(i).and_then(Option::as_deref) == Some("ConditionalCheckFailed");
                if failed(0) {
                    return Ok(Some(Applied::AlreadyApplied));
                }
                if (1..reasons.len()).any(failed) {
                    // An index item moved under this container: read it again.
                    crate::lock::lock(&self.indexes).clear();
                    return Ok(None);
                }
                Err(StoreError::unavailable("TransactWriteItems", err.code().unwrap_or("cancelled").to_owned()))
            }
        }
    }

    /// The marker write of `guard`: refused unless the change is newer
    /// than the last one applied.
    fn marker(&self, guard: &Guard) -> Result<TransactWriteItem, StoreError> {
        let pk = format!("applied#{}#{}", guard.projection, guard.source);
        let expires = crate::platform::SystemClock.now_ms() / 1000 + MARKER_RETENTION.as_secs();
        let put = Put::builder()
            .table_name(self.table.name())
            .item(KEY, to_s(pk))
            .item(SEQUENCE, to_n(guard.sequence))
            .item(EXPIRES, to_n(expires))
            .condition_expression("attribute_not_exists(#seq) OR #seq < :seq")
            .expression_attribute_names("#seq", SEQUENCE)
            .expression_attribute_values(":seq", to_n(guard.sequence))
            .build()
            .map_err(unbuilt)?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The index item `pk` with its version: from this container's copy,
    /// else read.
    async fn index(&self, pk: &str) -> Result<(u64, Option<Value>), StoreError> {
        if let Some(known) = crate::lock::lock(&self.indexes).get(pk) {
            return Ok(known.clone());
        }
        let item = self.table.get(|| key(pk)).await?;
        let version = item
            .as_ref()
            .and_then(|i| i.get(VERSION))
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        Ok((version, item.as_ref().map(fields)))
    }
}

impl ViewStore for DynamoDbViews {
    fn apply<'a>(&'a self, guard: &'a Guard, writes: &'a [ViewWrite]) -> BoxFuture<'a, Result<Applied, StoreError>> {
        Box::pin(async move {
            for _ in 0..INDEX_ATTEMPTS {
                if let Some(applied) = self.apply_once(guard, writes).await? {
                    return Ok(applied);
                }
            }
            Err(StoreError::conflict("TransactWriteItems"))
        })
    }

    fn get<'a>(&'a self, view: &'a str, key_in_view: &'a str) -> BoxFuture<'a, Result<Option<Value>, StoreError>> {
        Box::pin(async move {
            let pk = item_key(view, key_in_view);
            Ok(self.table.get(|| key(&pk)).await?.as_ref().map(fields))
        })
    }
}

/// The layout of the views table: partition key `pk`, TTL on `expires`.
pub(crate) fn table_spec() -> TableSpec {
    TableSpec::new(KeyAttribute::string(KEY)).ttl(EXPIRES)
}

fn item_key(view: &str, key: &str) -> String {
    format!("{view}#{key}")
}

fn key(pk: &str) -> Item {
    Item::from([(KEY.to_owned(), to_s(pk))])
}

/// `writes` grouped by the item they write, in their order.
fn by_item(writes: &[ViewWrite]) -> Vec<(String, Vec<&ViewWrite>)> {
    let mut groups: Vec<(String, Vec<&ViewWrite>)> = Vec::new();
    for write in writes {
        let pk = item_key(write.view(), write.key());
        match groups.iter_mut().find(|(p, _)| *p == pk) {
            Some((_, group)) => group.push(write),
            None => groups.push((pk, vec![write])),
        }
    }
    groups
}

/// One `ADD` of every counter of the group.
fn add(table: &str, pk: &str, group: &[&ViewWrite]) -> Result<TransactWriteItem, StoreError> {
    let mut sums: Vec<(&str, i64)> = Vec::new();
    for write in group {
        if let ViewWrite::Add { field, by, .. } = write {
            match sums.iter_mut().find(|(f, _)| f == field) {
                Some((_, sum)) => *sum = sum.saturating_add(*by),
                None => sums.push((field, *by)),
            }
        }
    }
    let expression = format!("ADD {}", (0..sums.len()).map(|i| format!("#f{i} :v{i}")).collect::<Vec<_>>().join(", "));
    let mut update = Update::builder().table_name(table).key(KEY, to_s(pk)).update_expression(expression);
    for (i, (field, sum)) in sums.iter().enumerate() {
        update = update
            .expression_attribute_names(format!("#f{i}"), *field)
            .expression_attribute_values(format!(":v{i}"), to_n(sum));
    }
    Ok(TransactWriteItem::builder().update(update.build().map_err(unbuilt)?).build())
}

/// The item replaced by `item`, or removed.
fn replace(table: &str, pk: &str, item: Option<&Value>) -> Result<TransactWriteItem, StoreError> {
    Ok(match item {
        Some(item) => {
            let put = Put::builder().table_name(table).set_item(Some(attributes(pk, item))).build();
            TransactWriteItem::builder().put(put.map_err(unbuilt)?).build()
        }
        None => {
            let delete = Delete::builder().table_name(table).key(KEY, to_s(pk)).build();
            TransactWriteItem::builder().delete(delete.map_err(unbuilt)?).build()
        }
    })
}

/// The index item replaced, on the condition that it is still at `version`.
fn replace_index(table: &str, pk: &str, version: u64, item: Option<&Value>) -> Result<TransactWriteItem, StoreError> {
    let mut attributes = attributes(pk, item.unwrap_or(&Value::Null));
    attributes.insert(VERSION.to_owned(), to_n(version + 1));
    let condition = if version == 0 { "attribute_not_exists(#version)" } else { "#version = :version" };
    let mut put = Put::builder()
        .table_name(table)
        .set_item(Some(attributes))
        .condition_expression(condition)
        .expression_attribute_names("#version", VERSION);
    if version > 0 {
        put = put.expression_attribute_values(":version", to_n(version));
    }
    Ok(TransactWriteItem::builder().put(put.build().map_err(unbuilt)?).build())
}

/// A request the SDK refused to build (a required field missing).
fn unbuilt(err: aws_sdk_dynamodb::error::BuildError) -> StoreError {
    StoreError::unavailable("TransactWriteItems", err)
}

/// The item's attributes: its key and its fields.
fn attributes(pk: &str, item: &Value) -> Item {
    let mut out = match item {
        Value::Object(fields) => fields.iter().map(|(name, value)| (name.clone(), attribute(value))).collect(),
        _ => Item::new(),
    };
    out.insert(KEY.to_owned(), to_s(pk));
    out
}

fn attribute(value: &Value) -> AttributeValue {
    match value {
        Value::Null => AttributeValue::Null(true),
        Value::Bool(flag) => AttributeValue::Bool(*flag),
        Value::Number(number) => to_n(number),
        Value::String(text) => to_s(text.clone()),
        Value::Array(list) => AttributeValue::L(list.iter().map(attribute).collect()),
        Value::Object(map) => AttributeValue::M(map.iter().map(|(k, v)| (k.clone(), attribute(v))).collect()),
    }
}

/// An item's fields as JSON, without halo's own attributes.
fn fields(item: &Item) -> Value {
    let own = [KEY, VERSION, EXPIRES];
    Value::Object(
        item.iter().filter(|(name, _)| !own.contains(&name.as_str())).map(|(k, v)| (k.clone(), json(v))).collect(),
    )
}

fn json(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(text) => Value::String(text.clone()),
        AttributeValue::N(text) => number(text),
        AttributeValue::Bool(flag) => Value::Bool(*flag),
        AttributeValue::L(list) => Value::Array(list.iter().map(json).collect()),
        AttributeValue::M(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), json(v))).collect::<Map<_, _>>()),
        _ => Value::Null,
    }
}
