//! [`DynamoDbSagaLog`]: the saga log in a DynamoDB table, one item per saga.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use super::log::{SagaLog, SagaRecord};
use crate::durable::dynamodb::{Item, Table, Written, store_error, to_n, to_s};
use crate::durable::{KeyAttribute, Projection, StoreError, TableSpec};
use crate::future::BoxFuture;

/// The index of sagas without an outcome (sparse: only they have `open`).
pub(super) const OPEN_INDEX: &str = "open-index";

/// A saga log in DynamoDB.
///
/// The table has the partition key `saga_id` (string) and, for
/// [`recover`](super::recover), a global secondary index
/// `open-index` on `open` (string, hash) and
/// `updated_at` (number, range), projecting all attributes. Each item holds
/// `version`, `status`, `saga`, `updated_at`, `lease_owner`,
/// `lease_expires`, `open` (`"1"` while the saga has no outcome), the whole
/// record as JSON in `record`, and, once final, `expiration` (epoch
/// seconds) for a TTL.
///
/// Every transition is **one** `PutItem`, conditional on the version read
/// (`attribute_not_exists(saga_id)` for the first): a run whose lease was
/// taken over can never overwrite the newer state. Records are limited by
/// DynamoDB's 400 KB item size: keep step outputs small (ids, not
/// documents).
///
/// ```no_run
/// # async fn init() {
/// let config = halo::platform::sdk_config().await;
/// let log = halo::saga::DynamoDbSagaLog::new(aws_sdk_dynamodb::Client::new(&config), "sagas");
/// # let _ = log;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct DynamoDbSagaLog {
    table: Table,
    retention: Duration,
}

/// A malformed record or a request that could not be built.
fn malformed(operation: &'static str, err: impl Into<crate::BoxError>) -> StoreError {
    StoreError::unavailable(operation, err).of(&super::STORE)
}

/// The layout of the saga log's table: the partition key `saga_id`, the
/// index of open sagas (`open-index`: `open`, `updated_at`, every
/// attribute) and TTL on `expiration`.
///
/// ```
/// let spec = halo::saga::table_spec();
/// assert_eq!(spec.partition_key, halo::durable::KeyAttribute::string("saga_id"));
/// assert_eq!(spec.ttl_attribute.as_deref(), Some("expiration"));
/// ```
pub fn table_spec() -> TableSpec {
    TableSpec::new(KeyAttribute::string("saga_id"))
        .index(OPEN_INDEX, KeyAttribute::string("open"), KeyAttribute::number("updated_at"), Projection::All)
        .ttl("expiration")
}

impl DynamoDbSagaLog {
    /// A log in `table`; finished sagas are kept 7 days (TTL).
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbSagaLog {
        DynamoDbSagaLog { table: Table::new(client, table), retention: Duration::from_secs(7 * 24 * 3600) }
    }

    /// How long a finished saga's record stays (its `expiration`).
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> DynamoDbSagaLog {
        self.retention = retention;
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        self.table.name()
    }

    /// Creates the table as [`table_spec`] lays it out (its index, TTL on
    /// `expiration`, on-demand billing) and waits until it is active, for
    /// local runs and tests; deploy it with your template in production.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        self.table.create(&table_spec()).await.map_err(|e| e.of(&super::STORE))
    }

    fn key(saga_id: &str) -> Item {
        Item::from([("saga_id".to_owned(), to_s(saga_id))])
    }

    fn item(&self, record: &SagaRecord) -> Result<Item, StoreError> {
        let json = serde_json::to_string(record).map_err(|e| malformed("PutItem", e))?;
        let mut item = Item::from([
            ("saga_id".to_owned(), to_s(&record.saga_id)),
            ("saga".to_owned(), to_s(&record.saga)),
            ("status".to_owned(), to_s(record.status.as_str())),
            ("version".to_owned(), to_n(record.version)),
            ("updated_at".to_owned(), to_n(record.updated_at_ms)),
            ("record".to_owned(), to_s(json)),
        ]);
        if let Some(lease) = &record.lease {
            item.insert("lease_owner".to_owned(), to_s(&lease.owner));
            item.insert("lease_expires".to_owned(), to_n(lease.expires_at_ms));
        }
        if record.status.is_final() {
            let expiration = record.updated_at_ms / 1000 + self.retention.as_secs();
            item.insert("expiration".to_owned(), to_n(expiration));
        } else {
            item.insert("open".to_owned(), to_s("1"));
        }
        Ok(item)
    }
}

fn parse(item: &Item) -> Result<SagaRecord, StoreError> {
    match item.get("record").and_then(|v| v.as_s().ok()) {
        Some(json) => serde_json::from_str(json).map_err(|e| malformed("GetItem", e)),
        None => Err(malformed("GetItem", "a saga item without its `record` attribute")),
    }
}

impl SagaLog for DynamoDbSagaLog {
    fn load<'a>(&'a self, saga_id: &'a str) -> BoxFuture<'a, Result<Option<SagaRecord>, StoreError>> {
        Box::pin(async move {
            let item = self.table.get(|| Self::key(saga_id)).await.map_err(|e| e.of(&super::STORE))?;
            item.as_ref().map(parse).transpose()
        })
    }

    fn write<'a>(&'a self, record: &'a SagaRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let put = self.table.client().put_item().table_name(self.table.name()).set_item(Some(self.item(record)?));
            let put = if record.version <= 1 {
                put.condition_expression("attribute_not_exists(saga_id)")
            } else {
                put.condition_expression("#version = :expected")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":expected", to_n(record.version - 1))
            };
            let put = put.return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            let written = self.table.conditional("PutItem", || Self::key(&record.saga_id), put.send().await).await;
            match written.map_err(|e| e.of(&super::STORE))? {
                Written::Applied(_) => Ok(()),
                // The write's answer may have been lost and the SDK sent it
                // again: the item is then this very record (same version,
                // same lease, same content), its writer's earlier attempt.
                Written::Refused(Some(item)) if parse(&item)? == *record => Ok(()),
                Written::Refused(_) => Err(StoreError::conflict("PutItem").of(&super::STORE)),
            }
        })
    }

    fn stalled<'a>(
        &'a self,
        updated_before_ms: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SagaRecord>, StoreError>> {
        Box::pin(async move {
            let mut found = Vec::new();
            if limit == 0 {
                return Ok(found);
            }
            let mut start = None;
            loop {
                let out = self
                    .table
                    .client()
                    .query()
                    .table_name(self.table.name())
                    .index_name(OPEN_INDEX)
                    .key_condition_expression("#open = :one AND updated_at < :before")
                    .expression_attribute_names("#open", "open")
                    .expression_attribute_values(":one", to_s("1"))
                    .expression_attribute_values(":before", to_n(updated_before_ms))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| store_error("Query", e).of(&super::STORE))?;
                for item in out.items() {
                    let record = parse(item)?;
                    if !record.status.is_final() {
                        found.push(record);
                    }
                    if found.len() >= limit {
                        return Ok(found);
                    }
                }
                match out.last_evaluated_key {
                    Some(key) if !key.is_empty() => start = Some(key),
                    _ => return Ok(found),
                }
            }
        })
    }
}
