//! Breaker state in DynamoDB: one item per breaker, conditional writes.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};

use super::state::BreakerState;
use super::store::{BreakerStore, SharedState, StoreError};
use crate::BoxFuture;

/// Breaker state shared through a DynamoDB table with the partition key
/// `name` (string); attributes `state`, `open_until` (epoch ms), `trips`,
/// `version`, `probes`.
///
/// Every transition is a `PutItem` conditional on the version read before,
/// so of two containers tripping at once exactly one writes; a probe lease
/// is an `UpdateItem` conditional on the version and the probe count. The
/// function needs `dynamodb:GetItem`, `dynamodb:PutItem` and
/// `dynamodb:UpdateItem` on the table.
#[derive(Debug, Clone)]
pub struct DynamoDbBreakerStore {
    client: Client,
    table: String,
}

fn store_error(err: impl Into<crate::BoxError>) -> StoreError {
    StoreError(err.into())
}

impl DynamoDbBreakerStore {
    /// A store on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbBreakerStore {
        DynamoDbBreakerStore { client, table: table.into() }
    }

    /// Creates the table (on-demand); for tests and local setups.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        self.client
            .create_table()
            .table_name(&self.table)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name("name")
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(store_error)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name("name")
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(store_error)?,
            )
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await
            .map_err(|e| store_error(e.into_service_error()))?;
        Ok(())
    }

    fn record_of(item: &HashMap<String, AttributeValue>) -> Result<SharedState, StoreError> {
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let number = |name: &str| -> u64 {
            item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
        };
        let state_text = text("state").ok_or_else(|| store_error("the breaker record has no `state`"))?;
        Ok(SharedState {
            name: text("name").unwrap_or_default(),
            state: BreakerState::parse(&state_text)
                .ok_or_else(|| store_error(format!("unknown state `{state_text}`")))?,
            open_until_ms: number("open_until"),
            trips: number("trips") as u32,
            version: number("version"),
            probes: number("probes") as u32,
        })
    }
}

impl BreakerStore for DynamoDbBreakerStore {
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<SharedState>, StoreError>> {
        Box::pin(async move {
            let output = self
                .client
                .get_item()
                .table_name(&self.table)
                .key("name", AttributeValue::S(name.to_owned()))
                .consistent_read(true)
                .send()
                .await
                .map_err(store_error)?;
            output.item().map(Self::record_of).transpose()
        })
    }

    fn publish<'a>(&'a self, next: &'a SharedState) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let n = |v: u64| AttributeValue::N(v.to_string());
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("name", AttributeValue::S(next.name.clone()))
                .item("state", AttributeValue::S(next.state.as_str().to_owned()))
                .item("open_until", n(next.open_until_ms))
                .item("trips", n(u64::from(next.trips)))
                .item("version", n(next.version))
                .item("probes", n(u64::from(next.probes)));
            // First write of a breaker (or after the table was emptied): no
            // record; otherwise the version this container last saw.
            let put = put
                .condition_expression("attribute_not_exists(#name) OR #version = :previous")
                .expression_attribute_names("#name", "name")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":previous", n(next.version.saturating_sub(1)));
            match put.send().await {
                Ok(_) => Ok(true),
                Err(err)
                    if matches!(err.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) =>
                {
                    Ok(false)
                }
                Err(err) => Err(store_error(err)),
            }
        })
    }

    fn lease_probe<'a>(&'a self, name: &'a str, version: u64, max: u32) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let n = |v: u64| AttributeValue::N(v.to_string());
            let update = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("name", AttributeValue::S(name.to_owned()))
                .update_expression("SET #probes = #probes + :one")
                .condition_expression("#version = :version AND #state = :half_open AND #probes < :max")
                .expression_attribute_names("#probes", "probes")
                .expression_attribute_names("#version", "version")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":version", n(version))
                .expression_attribute_values(
                    ":half_open",
                    AttributeValue::S(BreakerState::HalfOpen.as_str().to_owned()),
                )
                .expression_attribute_values(":max", n(u64::from(max)));
            match update.send().await {
                Ok(_) => Ok(true),
                Err(err)
                    if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) =>
                {
                    Ok(false)
                }
                Err(err) => Err(store_error(err)),
            }
        })
    }
}
