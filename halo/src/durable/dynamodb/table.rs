//! [`Table`]: a DynamoDB table of a store, its creation from a
//! [`TableSpec`], and the consistent read every store needs.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType as SchemaKeyType,
    Projection as SdkProjection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};

use super::attr::Item;
use super::conditional::{ConditionalFailure, Written, sort, store_error};
use crate::durable::{KeyAttribute, KeyType, Projection, StoreError, TableSpec};

/// How long a new table may take to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// A store's DynamoDB table: the client and the table name, with what
/// every store does on it.
///
/// ```no_run
/// # async fn run() -> Result<(), halo::durable::StoreError> {
/// use halo::durable::dynamodb::{Table, to_s};
/// use halo::durable::{KeyAttribute, TableSpec};
///
/// let table = Table::new(halo::platform::dynamodb_client().await, "todos");
/// table.create(&TableSpec::new(KeyAttribute::string("id"))).await?;
/// let item = table.get(|| [("id".to_owned(), to_s("t-1"))].into_iter().collect()).await?;
/// assert!(item.is_none());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Table {
    client: Client,
    name: String,
}

impl Table {
    /// The table `name`, reached with `client`.
    pub fn new(client: Client, name: impl Into<String>) -> Table {
        Table { client, name: name.into() }
    }

    /// The table name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The DynamoDB client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Reads the item with the key `key()`, strongly consistent.
    pub async fn get(&self, key: impl FnOnce() -> Item) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.name)
            .set_key(Some(key()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| store_error("GetItem", e))?;
        Ok(output.item)
    }

    /// The answer of the conditional write `operation` on the item with the
    /// key `key()`: [`Written::Applied`], or [`Written::Refused`] with the
    /// item as stored now (returned by the store, or read consistently when
    /// it returns none). Send the write with
    /// `ReturnValuesOnConditionCheckFailure=ALL_OLD` so it costs no read on
    /// DynamoDB.
    pub async fn conditional<O, E>(
        &self,
        operation: &'static str,
        key: impl FnOnce() -> Item,
        result: Result<O, SdkError<E, HttpResponse>>,
    ) -> Result<Written<O>, StoreError>
    where
        E: ConditionalFailure,
    {
        sort(operation, result, || self.get(key)).await
    }

    /// Sends the conditional `UpdateItem` `request`: its output when it was
    /// applied, `None` when its condition failed (with no read: for an
    /// update whose refusal needs no current item).
    pub async fn update_if(&self, request: UpdateItemFluentBuilder) -> Result<Option<UpdateItemOutput>, StoreError> {
        let result = request.send().await;
        match result {
            Ok(output) => Ok(Some(output)),
            Err(err) if err.as_service_error().and_then(ConditionalFailure::failed_condition).is_some() => Ok(None),
            Err(err) => Err(store_error("UpdateItem", err)),
        }
    }

    /// Creates the table as `spec` lays it out (on-demand billing), waits
    /// until it and its indexes are active, and turns TTL on. For tests and
    /// local set-ups: deploy tables with your infrastructure code. A
    /// DynamoDB without the TTL API (an emulator such as dynalite) keeps the
    /// table without TTL, with a warning: halo checks expiry itself, TTL
    /// only clears expired items away.
    pub async fn create(&self, spec: &TableSpec) -> Result<(), StoreError> {
        let fail = |e: aws_sdk_dynamodb::error::BuildError| StoreError::unavailable("CreateTable", e);
        let element =
            |key: &KeyAttribute, kind| KeySchemaElement::builder().attribute_name(&key.name).key_type(kind).build();
        let mut request = self.client.create_table().table_name(&self.name).billing_mode(BillingMode::PayPerRequest);
        for key in spec.attribute_definitions() {
            let kind = match key.kind {
                KeyType::String => ScalarAttributeType::S,
                KeyType::Number => ScalarAttributeType::N,
            };
            let definition = AttributeDefinition::builder().attribute_name(key.name).attribute_type(kind).build();
            request = request.attribute_definitions(definition.map_err(fail)?);
        }
        request = request.key_schema(element(&spec.partition_key, SchemaKeyType::Hash).map_err(fail)?);
        if let Some(sort_key) = &spec.sort_key {
            request = request.key_schema(element(sort_key, SchemaKeyType::Range).map_err(fail)?);
        }
        for index in &spec.indexes {
            let projection = match index.projection {
                Projection::All => ProjectionType::All,
                Projection::KeysOnly => ProjectionType::KeysOnly,
            };
            let mut built = GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .key_schema(element(&index.partition_key, SchemaKeyType::Hash).map_err(fail)?)
                .projection(SdkProjection::builder().projection_type(projection).build());
            if let Some(sort_key) = &index.sort_key {
                built = built.key_schema(element(sort_key, SchemaKeyType::Range).map_err(fail)?);
            }
            request = request.global_secondary_indexes(built.build().map_err(fail)?);
        }
        request.send().await.map_err(|e| store_error("CreateTable", e))?;
        self.wait_active().await?;
        match &spec.ttl_attribute {
            Some(attribute) => self.enable_ttl(attribute).await,
            None => Ok(()),
        }
    }

    /// Waits until the table and its indexes are `ACTIVE`: `CreateTable`
    /// answers while the table is still `CREATING`, and writes to it fail
    /// with `ResourceNotFoundException` until then.
    async fn wait_active(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(10);
        loop {
            let described = self
                .client
                .describe_table()
                .table_name(&self.name)
                .send()
                .await
                .map_err(|e| store_error("DescribeTable", e))?;
            if let Some(description) = described.table() {
                let indexes_active = description
                    .global_secondary_indexes()
                    .iter()
                    .all(|index| index.index_status().is_none_or(|status| *status == IndexStatus::Active));
                if description.table_status() == Some(&TableStatus::Active) && indexes_active {
                    return Ok(());
                }
            }
            if started.elapsed() > ACTIVE_TIMEOUT {
                let message = format!("the table {} is not active after {} s", self.name, ACTIVE_TIMEOUT.as_secs());
                return Err(StoreError::unavailable("DescribeTable", message));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }

    async fn enable_ttl(&self, attribute: &str) -> Result<(), StoreError> {
        use aws_sdk_dynamodb::error::ProvideErrorMetadata;

        let ttl = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(attribute)
            .build()
            .map_err(|e| StoreError::unavailable("UpdateTimeToLive", e))?;
        let result =
            self.client.update_time_to_live().table_name(&self.name).time_to_live_specification(ttl).send().await;
        match result {
            Ok(_) => Ok(()),
            Err(err)
                if err.as_service_error().and_then(ProvideErrorMetadata::code) == Some("UnknownOperationException") =>
            {
                tracing::warn!(table = %self.name, "this DynamoDB has no UpdateTimeToLive: the table is created without TTL");
                Ok(())
            }
            Err(err) => Err(store_error("UpdateTimeToLive", err)),
        }
    }
}
