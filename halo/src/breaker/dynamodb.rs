//! Breaker state in DynamoDB: one item per breaker, conditional writes.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue, ScalarAttributeType,
};

use super::state::BreakerState;
use super::store::{BreakerStore, SharedState, StoreError};
use crate::BoxFuture;

/// Breaker state shared through a DynamoDB table with the partition key
/// `name` (string); attributes `state`, `open_until` (epoch ms), `trips`,
/// `version`, `probes`, `successes`.
///
/// Every transition is a `PutItem` conditional on the version read before,
/// so of two containers tripping at once exactly one writes; a probe lease
/// is an `UpdateItem` conditional on the version and the probe count, and
/// so is counting a successful probe (conditional on the version). The
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
        crate::platform::tables::wait_active(&self.client, &self.table).await.map_err(store_error)
    }

    fn record_of(item: &HashMap<String, AttributeValue>) -> Result<SharedState, StoreError> {
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        let read_number = |name: &str| -> u64 {
            item.get(name).and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).unwrap_or(0)
        };
        let state_text = text("state").ok_or_else(|| store_error("the breaker record has no `state`"))?;
        Ok(SharedState {
            name: text("name").unwrap_or_default(),
            state: BreakerState::parse(&state_text)
                .ok_or_else(|| store_error(format!("unknown state `{state_text}`")))?,
            open_until_ms: read_number("open_until"),
            trips: read_number("trips") as u32,
            version: read_number("version"),
            probes: read_number("probes") as u32,
            successes: read_number("successes") as u32,
        })
    }

    /// An `UpdateItem` of `name`'s record applied only while it is in the
    /// half-open period `version` (and `extra_condition`); `:one` is bound.
    fn half_open_update(
        &self,
        name: &str,
        version: u64,
        update: &str,
        extra_condition: Option<&str>,
    ) -> UpdateItemFluentBuilder {
        let half_open = "#version = :version AND #state = :half_open";
        let condition = match extra_condition {
            Some(extra) => format!("{half_open} AND {extra}"),
            None => half_open.to_owned(),
        };
        self.client
            .update_item()
            .table_name(&self.table)
            .key("name", AttributeValue::S(name.to_owned()))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":version", number(version))
            .expression_attribute_values(":half_open", AttributeValue::S(BreakerState::HalfOpen.as_str().to_owned()))
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
            let put = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("name", AttributeValue::S(next.name.clone()))
                .item("state", AttributeValue::S(next.state.as_str().to_owned()))
                .item("open_until", number(next.open_until_ms))
                .item("trips", number(u64::from(next.trips)))
                .item("version", number(next.version))
                .item("probes", number(u64::from(next.probes)))
                .item("successes", number(u64::from(next.successes)));
            // First write of a breaker (or after the table was emptied): no
            // record; otherwise the version this container last saw.
            let put = put
                .condition_expression("attribute_not_exists(#name) OR #version = :previous")
                .expression_attribute_names("#name", "name")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":previous", number(next.version.saturating_sub(1)));
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
            let update = self
                .half_open_update(name, version, "SET #probes = #probes + :one", Some("#probes < :max"))
                .expression_attribute_names("#probes", "probes")
                .expression_attribute_values(":max", number(u64::from(max)));
            Ok(if_half_open(update.send().await)?.is_some())
        })
    }

    fn count_probe_success<'a>(
        &'a self,
        name: &'a str,
        version: u64,
    ) -> BoxFuture<'a, Result<Option<u32>, StoreError>> {
        Box::pin(async move {
            let update = self
                .half_open_update(name, version, "SET #successes = if_not_exists(#successes, :zero) + :one", None)
                .expression_attribute_names("#successes", "successes")
                .expression_attribute_values(":zero", number(0))
                .return_values(ReturnValue::UpdatedNew);
            let Some(output) = if_half_open(update.send().await)? else { return Ok(None) };
            let count = output.attributes().and_then(|a| a.get("successes")).and_then(|v| v.as_n().ok());
            count
                .and_then(|n| n.parse().ok())
                .map(Some)
                .ok_or_else(|| store_error("the successes count is missing from the answer"))
        })
    }
}

fn number(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The answer of a half-open update: `None` when its condition failed (the
/// period is over, or no slot is left).
fn if_half_open(
    result: Result<UpdateItemOutput, SdkError<UpdateItemError>>,
) -> Result<Option<UpdateItemOutput>, StoreError> {
    match result {
        Ok(output) => Ok(Some(output)),
        Err(err) if matches!(err.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {
            Ok(None)
        }
        Err(err) => Err(store_error(err)),
    }
}
