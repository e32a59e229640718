//! [`DynamoDbIdempotencyStore`]: records in a DynamoDB table with Powertools' schema.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType,
};

use super::record::{NotStored, Record, Status};
use super::store::{Claim, IdempotencyStore, StoreError};
use crate::BoxFuture;

/// The attribute names of the table; the defaults are Powertools'.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeNames {
    /// Partition key (`id`, a string).
    pub key: String,
    /// Expiry in epoch seconds, the TTL attribute (`expiration`).
    pub expiration: String,
    /// In-progress expiry in epoch milliseconds (`in_progress_expiration`).
    pub in_progress_expiration: String,
    /// `INPROGRESS` / `COMPLETED` (`status`).
    pub status: String,
    /// The serialized response (`data`).
    pub data: String,
    /// The hash of the validated fields (`validation`).
    pub validation: String,
    /// Why a completed record has no response (`halo_not_stored`, halo's
    /// own attribute; see [`NotStored`](super::NotStored)).
    pub not_stored: String,
    /// The token of the call that wrote the claim (`halo_owner`, halo's own
    /// attribute; see [`Record::owner`]).
    pub owner: String,
}

impl Default for AttributeNames {
    fn default() -> Self {
        AttributeNames {
            key: "id".into(),
            expiration: "expiration".into(),
            in_progress_expiration: "in_progress_expiration".into(),
            status: "status".into(),
            data: "data".into(),
            validation: "validation".into(),
            not_stored: "halo_not_stored".into(),
            owner: "halo_owner".into(),
        }
    }
}

/// A [`IdempotencyStore`] on a DynamoDB table whose schema is compatible with
/// Powertools for AWS Lambda's idempotency table: partition key `id`
/// (string), `expiration` (TTL, epoch seconds), `in_progress_expiration`
/// (epoch milliseconds), `status`, `data`, `validation`. halo adds two
/// attributes of its own: `halo_owner`, the token of the call that wrote
/// the claim (so a retried write recognises its own record,
/// [`Record::owner`]), and `halo_not_stored`, on the rare completed record
/// whose response could not be stored ([`NotStored`]).
///
/// Costs per invocation: a first call is 2 requests (the conditional
/// `PutItem` that claims the key, then the `PutItem` that stores the
/// response), a replay is 1 (the failed claim returns the stored record
/// with `ReturnValuesOnConditionCheckFailure=ALL_OLD`), a failed handler is
/// 2 (claim, `DeleteItem`).
///
/// The function needs `dynamodb:PutItem`, `dynamodb:GetItem` and
/// `dynamodb:DeleteItem` on the table, nothing else.
///
/// ```no_run
/// # async fn init() -> Result<(), Box<dyn std::error::Error>> {
/// use halo::idempotency::DynamoDbIdempotencyStore;
///
/// let client = halo::platform::dynamodb_client().await;
/// let store = DynamoDbIdempotencyStore::new(client, "idempotency");
/// // A table shared with other data: a composite key with a static partition value.
/// let client = halo::platform::dynamodb_client().await;
/// let shared = DynamoDbIdempotencyStore::new(client, "app-table").sort_key("sk", "idempotency#charge");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct DynamoDbIdempotencyStore {
    client: Client,
    table: String,
    names: AttributeNames,
    /// `(sort key attribute, static partition value)`.
    sort_key: Option<(String, String)>,
}

impl DynamoDbIdempotencyStore {
    /// A store on `table` with Powertools' attribute names.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbIdempotencyStore {
        DynamoDbIdempotencyStore { client, table: table.into(), names: AttributeNames::default(), sort_key: None }
    }

    /// Uses other attribute names.
    pub fn attribute_names(mut self, names: AttributeNames) -> DynamoDbIdempotencyStore {
        self.names = names;
        self
    }

    /// Uses a composite primary key: the partition key attribute holds
    /// `partition_value` on every record and the sort key attribute
    /// `sort_key` holds the idempotency key (Powertools' `sort_key_attr` /
    /// `static_pk_value`).
    pub fn sort_key(
        mut self,
        sort_key: impl Into<String>,
        partition_value: impl Into<String>,
    ) -> DynamoDbIdempotencyStore {
        self.sort_key = Some((sort_key.into(), partition_value.into()));
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The DynamoDB client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Creates the table (on-demand billing) with TTL on the expiration
    /// attribute. For tests and local set-ups; deploy tables with your
    /// infrastructure code (see the example's `template.yaml`).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let build_error = |e| StoreError::new("CreateTable", e);
        let mut keys = vec![(self.names.key.as_str(), KeyType::Hash)];
        if let Some((sort_key, _)) = &self.sort_key {
            keys.push((sort_key.as_str(), KeyType::Range));
        }
        let mut request = self.client.create_table().table_name(&self.table).billing_mode(BillingMode::PayPerRequest);
        for (name, kind) in keys {
            let definition = AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(build_error)?;
            let element =
                KeySchemaElement::builder().attribute_name(name).key_type(kind).build().map_err(build_error)?;
            request = request.attribute_definitions(definition).key_schema(element);
        }
        request.send().await.map_err(|e| StoreError::new("CreateTable", e))?;
        crate::platform::tables::wait_active(&self.client, &self.table)
            .await
            .map_err(|e| StoreError::new("DescribeTable", e))?;
        crate::platform::tables::enable_ttl(&self.client, &self.table, &self.names.expiration)
            .await
            .map_err(|e| StoreError::new("UpdateTimeToLive", e))
    }

    fn key_item(&self, key: &str) -> HashMap<String, AttributeValue> {
        let mut item = HashMap::with_capacity(2);
        match &self.sort_key {
            Some((sort_key, partition)) => {
                item.insert(self.names.key.clone(), AttributeValue::S(partition.clone()));
                item.insert(sort_key.clone(), AttributeValue::S(key.to_owned()));
            }
            None => {
                item.insert(self.names.key.clone(), AttributeValue::S(key.to_owned()));
            }
        }
        item
    }

    fn to_item(&self, record: &Record) -> HashMap<String, AttributeValue> {
        let mut item = self.key_item(&record.key);
        item.insert(self.names.status.clone(), AttributeValue::S(record.status.as_str().to_owned()));
        item.insert(self.names.expiration.clone(), AttributeValue::N(record.expiration.to_string()));
        if let Some(deadline) = record.in_progress_expiration {
            item.insert(self.names.in_progress_expiration.clone(), AttributeValue::N(deadline.to_string()));
        }
        if let Some(data) = &record.data {
            item.insert(self.names.data.clone(), AttributeValue::S(data.clone()));
        }
        if let Some(validation) = &record.validation {
            item.insert(self.names.validation.clone(), AttributeValue::S(validation.clone()));
        }
        if let Some(reason) = record.not_stored {
            item.insert(self.names.not_stored.clone(), AttributeValue::S(reason.as_str().to_owned()));
        }
        if let Some(owner) = &record.owner {
            item.insert(self.names.owner.clone(), AttributeValue::S(owner.clone()));
        }
        item
    }

    fn record_of(&self, item: &HashMap<String, AttributeValue>) -> Result<Record, String> {
        let string = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let number = |name: &str| -> Result<Option<u64>, String> {
            match item.get(name) {
                None => Ok(None),
                Some(value) => {
                    let text = value.as_n().map_err(|_| format!("`{name}` is not a number"))?;
                    // Powertools may write fractional numbers; keep the whole part.
                    let whole = text.split('.').next().unwrap_or(text);
                    whole.parse().map(Some).map_err(|_| format!("`{name}` is not an epoch time: {text}"))
                }
            }
        };
        let key_attr = self.sort_key.as_ref().map_or(&self.names.key, |(sort_key, _)| sort_key);
        let key = string(key_attr).ok_or_else(|| format!("the record has no string `{key_attr}`"))?;
        let status_text = string(&self.names.status).ok_or("the record has no `status`")?;
        let status = Status::parse(&status_text).ok_or_else(|| format!("unknown status `{status_text}`"))?;
        let not_stored = match string(&self.names.not_stored) {
            None => None,
            Some(text) => {
                Some(NotStored::parse(&text).ok_or_else(|| format!("unknown `{}` `{text}`", self.names.not_stored))?)
            }
        };
        Ok(Record {
            key,
            status,
            expiration: number(&self.names.expiration)?.unwrap_or(0),
            in_progress_expiration: number(&self.names.in_progress_expiration)?,
            data: string(&self.names.data),
            validation: string(&self.names.validation),
            not_stored,
            owner: string(&self.names.owner),
        })
    }

    async fn claim_record(&self, record: &Record, now_ms: u64) -> Result<Claim, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.to_item(record)))
            .condition_expression(
                "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND #in_progress_expiry < :now_ms)",
            )
            .expression_attribute_names("#id", &self.names.key)
            .expression_attribute_names("#expiry", &self.names.expiration)
            .expression_attribute_names("#status", &self.names.status)
            .expression_attribute_names("#in_progress_expiry", &self.names.in_progress_expiration)
            .expression_attribute_values(":now", AttributeValue::N((now_ms / 1000).to_string()))
            .expression_attribute_values(":now_ms", AttributeValue::N(now_ms.to_string()))
            .expression_attribute_values(":inprogress", AttributeValue::S(Status::InProgress.as_str().to_owned()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                let previous = match output.attributes() {
                    Some(item) if !item.is_empty() => {
                        Some(self.record_of(item).map_err(|e| StoreError::new("PutItem", e))?)
                    }
                    _ => None,
                };
                Ok(Claim::Claimed { previous })
            }
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => match failed.item() {
                    Some(item) => Ok(Claim::Held(self.record_of(item).map_err(|e| StoreError::new("PutItem", e))?)),
                    // A store that ignores ALL_OLD: read the record instead.
                    None => match self.get_record(&record.key).await? {
                        Some(existing) => Ok(Claim::Held(existing)),
                        None => Err(StoreError::new("PutItem", "the claim failed but no record holds the key")),
                    },
                },
                _ => Err(StoreError::new("PutItem", err)),
            },
        }
    }

    async fn get_record(&self, key: &str) -> Result<Option<Record>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(self.key_item(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::new("GetItem", e))?;
        output.item().map(|item| self.record_of(item).map_err(|e| StoreError::new("GetItem", e))).transpose()
    }
}

impl IdempotencyStore for DynamoDbIdempotencyStore {
    fn claim<'a>(&'a self, record: &'a Record, now_ms: u64) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(self.claim_record(record, now_ms))
    }

    fn complete<'a>(&'a self, record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(self.to_item(record)))
                .send()
                .await
                .map_err(|e| StoreError::new("PutItem", e))?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(self.key_item(key)))
                .send()
                .await
                .map_err(|e| StoreError::new("DeleteItem", e))?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(self.get_record(key))
    }
}
