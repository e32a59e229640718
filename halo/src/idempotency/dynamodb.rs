//! [`DynamoDbIdempotencyStore`]: records in a DynamoDB table with Powertools' schema.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::IdempotencyStore;
use super::record::{NotStored, Record, Status};
use super::store::Claim;
use crate::durable::dynamodb::{Item, ItemView, Table, Written, store_error, to_n, to_s};
use crate::durable::{KeyAttribute, StoreError, TableSpec};
use crate::future::BoxFuture;

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
    /// own attribute; see [`NotStored`](super::store::NotStored)).
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

/// The layout of an idempotency table with Powertools' attribute names:
/// the partition key `id` (string) and TTL on `expiration`.
///
/// ```
/// use halo::durable::{KeyAttribute, TableSpec};
///
/// assert_eq!(halo::idempotency::table_spec(), TableSpec::new(KeyAttribute::string("id")).ttl("expiration"));
/// ```
pub fn table_spec() -> TableSpec {
    spec_of(&AttributeNames::default(), None)
}

fn spec_of(names: &AttributeNames, sort_key: Option<&str>) -> TableSpec {
    let spec = TableSpec::new(KeyAttribute::string(&names.key)).ttl(&names.expiration);
    match sort_key {
        Some(sort_key) => spec.sort_key(KeyAttribute::string(sort_key)),
        None => spec,
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
    table: Table,
    names: AttributeNames,
    /// `(sort key attribute, static partition value)`.
    sort_key: Option<(String, String)>,
}

impl DynamoDbIdempotencyStore {
    /// A store on `table` with Powertools' attribute names.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbIdempotencyStore {
        DynamoDbIdempotencyStore { table: Table::new(client, table), names: AttributeNames::default(), sort_key: None }
    }

    /// Uses other attribute names.
    #[must_use]
    pub fn attribute_names(mut self, names: AttributeNames) -> DynamoDbIdempotencyStore {
        self.names = names;
        self
    }

    /// Uses a composite primary key: the partition key attribute holds
    /// `partition_value` on every record and the sort key attribute
    /// `sort_key` holds the idempotency key (Powertools' `sort_key_attr` /
    /// `static_pk_value`).
    #[must_use]
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
        self.table.name()
    }

    /// The DynamoDB client.
    pub fn client(&self) -> &Client {
        self.table.client()
    }

    /// The layout of this store's table: the partition key (and the sort
    /// key, with [`sort_key`](Self::sort_key)), strings, and TTL on the
    /// expiration attribute.
    ///
    /// ```
    /// # async fn check() {
    /// let store = halo::idempotency::DynamoDbIdempotencyStore::new(halo::platform::dynamodb_client().await, "t");
    /// assert_eq!(store.table_spec(), halo::idempotency::table_spec());
    /// # }
    /// ```
    pub fn table_spec(&self) -> TableSpec {
        spec_of(&self.names, self.sort_key.as_ref().map(|(sort_key, _)| sort_key.as_str()))
    }

    /// Creates the table as [`table_spec`](Self::table_spec) lays it out
    /// (on-demand billing, TTL on the expiration attribute). For tests and
    /// local set-ups; deploy tables with your infrastructure code (see the
    /// example's `template.yaml`).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        self.table.create(&self.table_spec()).await.map_err(|e| e.of(&super::STORE))
    }

    fn key_item(&self, key: &str) -> Item {
        let mut item = Item::with_capacity(2);
        match &self.sort_key {
            Some((sort_key, partition)) => {
                item.insert(self.names.key.clone(), to_s(partition));
                item.insert(sort_key.clone(), to_s(key));
            }
            None => {
                item.insert(self.names.key.clone(), to_s(key));
            }
        }
        item
    }

    fn to_item(&self, record: &Record) -> Item {
        let mut item = self.key_item(&record.key);
        item.insert(self.names.status.clone(), to_s(record.status.as_str()));
        item.insert(self.names.expiration.clone(), to_n(record.expiration));
        let optional = [
            (&self.names.in_progress_expiration, record.in_progress_expiration.map(to_n)),
            (&self.names.data, record.data.as_deref().map(to_s)),
            (&self.names.validation, record.validation.as_deref().map(to_s)),
            (&self.names.not_stored, record.not_stored.map(|reason| to_s(reason.as_str()))),
            (&self.names.owner, record.owner.as_deref().map(to_s)),
        ];
        item.extend(optional.into_iter().filter_map(|(name, value)| Some((name.clone(), value?))));
        item
    }

    /// The record of `item`, which `operation` returned.
    fn record_of(&self, item: &Item, operation: &'static str) -> Result<Record, StoreError> {
        self.parse(item).map_err(|e| StoreError::unavailable(operation, e).of(&super::STORE))
    }

    fn parse(&self, item: &Item) -> Result<Record, String> {
        let view = ItemView::new(item, "the idempotency record");
        let key_attr = self.sort_key.as_ref().map_or(&self.names.key, |(sort_key, _)| sort_key);
        let key = view.required_string(key_attr)?;
        let status_text = view.required_string(&self.names.status)?;
        let status = Status::parse(&status_text).ok_or_else(|| format!("unknown status `{status_text}`"))?;
        let not_stored = match view.string(&self.names.not_stored) {
            None => None,
            Some(text) => {
                Some(NotStored::parse(&text).ok_or_else(|| format!("unknown `{}` `{text}`", self.names.not_stored))?)
            }
        };
        Ok(Record {
            key,
            status,
            expiration: view.number(&self.names.expiration)?.unwrap_or(0),
            in_progress_expiration: view.number(&self.names.in_progress_expiration)?,
            data: view.string(&self.names.data),
            validation: view.string(&self.names.validation),
            not_stored,
            owner: view.string(&self.names.owner),
        })
    }

    async fn claim_record(&self, record: &Record, now_ms: u64) -> Result<Claim, StoreError> {
        let result = self
            .table
            .client()
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(self.to_item(record)))
            .condition_expression(
                "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND #in_progress_expiry < :now_ms)",
            )
            .expression_attribute_names("#id", &self.names.key)
            .expression_attribute_names("#expiry", &self.names.expiration)
            .expression_attribute_names("#status", &self.names.status)
            .expression_attribute_names("#in_progress_expiry", &self.names.in_progress_expiration)
            .expression_attribute_values(":now", to_n(now_ms / 1000))
            .expression_attribute_values(":now_ms", to_n(now_ms))
            .expression_attribute_values(":inprogress", to_s(Status::InProgress.as_str()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let written = self.table.conditional("PutItem", || self.key_item(&record.key), result).await;
        match written.map_err(|e| e.of(&super::STORE))? {
            Written::Applied(output) => {
                let previous = match output.attributes() {
                    Some(item) if !item.is_empty() => Some(self.record_of(item, "PutItem")?),
                    _ => None,
                };
                Ok(Claim::Claimed { previous })
            }
            Written::Refused(Some(item)) => Ok(Claim::Held(self.record_of(&item, "PutItem")?)),
            Written::Refused(None) => {
                Err(StoreError::unavailable("PutItem", "the claim failed but no record holds the key")
                    .of(&super::STORE))
            }
        }
    }

    async fn get_record(&self, key: &str) -> Result<Option<Record>, StoreError> {
        let item = self.table.get(|| self.key_item(key)).await.map_err(|e| e.of(&super::STORE))?;
        item.map(|item| self.record_of(&item, "GetItem")).transpose()
    }
}

impl IdempotencyStore for DynamoDbIdempotencyStore {
    fn claim<'a>(&'a self, record: &'a Record, now_ms: u64) -> BoxFuture<'a, Result<Claim, StoreError>> {
        Box::pin(self.claim_record(record, now_ms))
    }

    fn complete<'a>(&'a self, record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let put = self.table.client().put_item().table_name(self.table.name()).set_item(Some(self.to_item(record)));
            put.send().await.map_err(|e| store_error("PutItem", e).of(&super::STORE))?;
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let delete =
                self.table.client().delete_item().table_name(self.table.name()).set_key(Some(self.key_item(key)));
            delete.send().await.map_err(|e| store_error("DeleteItem", e).of(&super::STORE))?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
        Box::pin(self.get_record(key))
    }
}
