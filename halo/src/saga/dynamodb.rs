//! [`DynamoDbSagaLog`]: the saga log in a DynamoDB table, one item per saga.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
};

use super::error::LogError;
use super::log::{SagaLog, SagaRecord};
use crate::BoxFuture;

/// The index of sagas without an outcome (sparse: only they have `open`).
pub const OPEN_INDEX: &str = "open-index";

/// A saga log in DynamoDB.
///
/// The table has the partition key `saga_id` (string) and, for
/// [`recover`](super::recover), a global secondary index
/// [`OPEN_INDEX`](DynamoDbSagaLog::OPEN_INDEX) on `open` (string, hash) and
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
    client: Client,
    table: String,
    retention: Duration,
}

fn store_error(err: impl Into<crate::BoxError>) -> LogError {
    LogError::Store(err.into())
}

impl DynamoDbSagaLog {
    /// The name of the index of open sagas.
    pub const OPEN_INDEX: &'static str = OPEN_INDEX;

    /// A log in `table`; finished sagas are kept 7 days (TTL).
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbSagaLog {
        DynamoDbSagaLog { client, table: table.into(), retention: Duration::from_secs(7 * 24 * 3600) }
    }

    /// How long a finished saga's record stays (its `expiration`).
    pub fn retention(mut self, retention: Duration) -> DynamoDbSagaLog {
        self.retention = retention;
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table with its index and TTL on `expiration` (on-demand
    /// billing) and waits until it is active, for local runs and tests;
    /// deploy it with your template in production.
    pub async fn create_table(&self) -> Result<(), LogError> {
        let attribute = |name: &str, ty| {
            AttributeDefinition::builder().attribute_name(name).attribute_type(ty).build().map_err(store_error)
        };
        let key = |name: &str, ty| KeySchemaElement::builder().attribute_name(name).key_type(ty).build();
        let index = GlobalSecondaryIndex::builder()
            .index_name(OPEN_INDEX)
            .key_schema(key("open", KeyType::Hash).map_err(store_error)?)
            .key_schema(key("updated_at", KeyType::Range).map_err(store_error)?)
            .projection(Projection::builder().projection_type(ProjectionType::All).build())
            .build()
            .map_err(store_error)?;
        self.client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(attribute("saga_id", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("open", ScalarAttributeType::S)?)
            .attribute_definitions(attribute("updated_at", ScalarAttributeType::N)?)
            .key_schema(key("saga_id", KeyType::Hash).map_err(store_error)?)
            .global_secondary_indexes(index)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| store_error(e.into_service_error()))?;
        crate::platform::tables::wait_active(&self.client, &self.table).await.map_err(store_error)?;
        // Finished sagas carry `expiration` (their retention): TTL clears them.
        crate::platform::tables::enable_ttl(&self.client, &self.table, "expiration").await.map_err(store_error)
    }

    fn item(&self, record: &SagaRecord) -> Result<HashMap<String, AttributeValue>, LogError> {
        let json = serde_json::to_string(record).map_err(store_error)?;
        let mut item = HashMap::from([
            ("saga_id".to_owned(), AttributeValue::S(record.saga_id.clone())),
            ("saga".to_owned(), AttributeValue::S(record.saga.clone())),
            ("status".to_owned(), AttributeValue::S(record.status.as_str().to_owned())),
            ("version".to_owned(), AttributeValue::N(record.version.to_string())),
            ("updated_at".to_owned(), AttributeValue::N(record.updated_at_ms.to_string())),
            ("record".to_owned(), AttributeValue::S(json)),
        ]);
        if let Some(lease) = &record.lease {
            item.insert("lease_owner".to_owned(), AttributeValue::S(lease.owner.clone()));
            item.insert("lease_expires".to_owned(), AttributeValue::N(lease.expires_at_ms.to_string()));
        }
        if record.status.is_final() {
            let expiration = record.updated_at_ms / 1000 + self.retention.as_secs();
            item.insert("expiration".to_owned(), AttributeValue::N(expiration.to_string()));
        } else {
            item.insert("open".to_owned(), AttributeValue::S("1".to_owned()));
        }
        Ok(item)
    }
}

fn parse(item: &HashMap<String, AttributeValue>) -> Result<SagaRecord, LogError> {
    match item.get("record") {
        Some(AttributeValue::S(json)) => serde_json::from_str(json).map_err(store_error),
        _ => Err(store_error("a saga item without its `record` attribute")),
    }
}

impl SagaLog for DynamoDbSagaLog {
    fn load<'a>(&'a self, saga_id: &'a str) -> BoxFuture<'a, Result<Option<SagaRecord>, LogError>> {
        Box::pin(async move {
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("saga_id", AttributeValue::S(saga_id.to_owned()))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| store_error(e.into_service_error()))?;
            out.item.as_ref().map(parse).transpose()
        })
    }

    fn write<'a>(&'a self, record: &'a SagaRecord) -> BoxFuture<'a, Result<(), LogError>> {
        Box::pin(async move {
            let put = self.client.put_item().table_name(&self.table).set_item(Some(self.item(record)?));
            let put = if record.version <= 1 {
                put.condition_expression("attribute_not_exists(saga_id)")
            } else {
                put.condition_expression("#version = :expected")
                    .expression_attribute_names("#version", "version")
                    .expression_attribute_values(":expected", AttributeValue::N((record.version - 1).to_string()))
            };
            let put = put.return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            match put.send().await {
                Ok(_) => Ok(()),
                Err(SdkError::ServiceError(err)) => match err.into_err() {
                    PutItemError::ConditionalCheckFailedException(failed) => {
                        // The write's answer may have been lost and the SDK
                        // sent it again: the item is then this very record
                        // (same version, same lease, same content). A store
                        // that does not return the item is read instead.
                        let current = match failed.item() {
                            Some(item) => Some(parse(item)?),
                            None => self.load(&record.saga_id).await?,
                        };
                        if current.as_ref() == Some(record) { Ok(()) } else { Err(LogError::Conflict) }
                    }
                    other => Err(store_error(other)),
                },
                Err(err) => Err(store_error(err.into_service_error())),
            }
        })
    }

    fn stalled<'a>(&'a self, updated_before_ms: u64, limit: usize) -> BoxFuture<'a, Result<Vec<SagaRecord>, LogError>> {
        Box::pin(async move {
            let mut found = Vec::new();
            if limit == 0 {
                return Ok(found);
            }
            let mut start = None;
            loop {
                let out = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(OPEN_INDEX)
                    .key_condition_expression("#open = :one AND updated_at < :before")
                    .expression_attribute_names("#open", "open")
                    .expression_attribute_values(":one", AttributeValue::S("1".to_owned()))
                    .expression_attribute_values(":before", AttributeValue::N(updated_before_ms.to_string()))
                    .set_exclusive_start_key(start)
                    .send()
                    .await
                    .map_err(|e| store_error(e.into_service_error()))?;
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
