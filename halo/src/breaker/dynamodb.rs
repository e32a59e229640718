//! Breaker state in DynamoDB: one item per breaker, conditional writes.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};

use super::state::BreakerState;
use super::store::{BreakerStore, SharedState};
use crate::durable::dynamodb::{Item, ItemView, Table, Written, to_n, to_s};
use crate::durable::{KeyAttribute, StoreError, TableSpec};
use crate::future::BoxFuture;

/// Breaker state shared through a DynamoDB table with the partition key
/// `name` (string); attributes `state`, `open_until` (epoch ms), `trips`,
/// `version`, `probes`, `successes`, `writer` (the token of the breaker
/// that wrote the version, so a transition whose answer was lost, sent
/// again, is recognised as its own).
///
/// Every transition is a `PutItem` conditional on the version read before,
/// so of two containers tripping at once exactly one writes; a probe lease
/// is an `UpdateItem` conditional on the version and the probe count, and
/// so is counting a successful probe (conditional on the version). The
/// function needs `dynamodb:GetItem`, `dynamodb:PutItem` and
/// `dynamodb:UpdateItem` on the table.
#[derive(Debug, Clone)]
pub struct DynamoDbBreakerStore {
    table: Table,
}

/// The layout of the breaker table: the partition key `name`, no index, no
/// TTL (one small item per breaker, kept).
///
/// ```
/// let spec = halo::breaker::table_spec();
/// assert_eq!(spec.partition_key, halo::durable::KeyAttribute::string("name"));
/// assert!(spec.indexes.is_empty() && spec.ttl_attribute.is_none());
/// ```
pub fn table_spec() -> TableSpec {
    TableSpec::new(KeyAttribute::string("name"))
}

fn key(name: &str) -> Item {
    Item::from([("name".to_owned(), to_s(name))])
}

fn of_breaker(err: StoreError) -> StoreError {
    err.of(&super::env::STORE)
}

impl DynamoDbBreakerStore {
    /// A store on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoDbBreakerStore {
        DynamoDbBreakerStore { table: Table::new(client, table) }
    }

    /// Creates the table as [`table_spec`] lays it out (on-demand); for
    /// tests and local setups.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        self.table.create(&table_spec()).await.map_err(of_breaker)
    }

    /// The record of `item`, which `operation` returned.
    fn record_of(item: &Item, operation: &'static str) -> Result<SharedState, StoreError> {
        Self::parse(item).map_err(|e| of_breaker(StoreError::unavailable(operation, e)))
    }

    fn parse(item: &Item) -> Result<SharedState, String> {
        let view = ItemView::new(item, "the breaker record");
        let state_text = view.required_string("state")?;
        let count = |name: &str| -> Result<u32, String> { Ok(view.number(name)?.unwrap_or(0) as u32) };
        Ok(SharedState {
            name: view.string("name").unwrap_or_default(),
            state: BreakerState::parse(&state_text).ok_or_else(|| format!("unknown state `{state_text}`"))?,
            open_until_ms: view.number("open_until")?.unwrap_or(0),
            trips: count("trips")?,
            version: view.number("version")?.unwrap_or(0),
            probes: count("probes")?,
            successes: count("successes")?,
            writer: view.string("writer").unwrap_or_default(),
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
        self.table
            .client()
            .update_item()
            .table_name(self.table.name())
            .key("name", to_s(name))
            .update_expression(update)
            .condition_expression(condition)
            .expression_attribute_names("#version", "version")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":one", to_n(1))
            .expression_attribute_values(":version", to_n(version))
            .expression_attribute_values(":half_open", to_s(BreakerState::HalfOpen.as_str()))
    }
}

impl BreakerStore for DynamoDbBreakerStore {
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<SharedState>, StoreError>> {
        Box::pin(async move {
            let item = self.table.get(|| key(name)).await.map_err(of_breaker)?;
            item.as_ref().map(|item| Self::record_of(item, "GetItem")).transpose()
        })
    }

    fn publish<'a>(&'a self, next: &'a SharedState) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let put = self
                .table
                .client()
                .put_item()
                .table_name(self.table.name())
                .item("name", to_s(&next.name))
                .item("state", to_s(next.state.as_str()))
                .item("open_until", to_n(next.open_until_ms))
                .item("trips", to_n(next.trips))
                .item("version", to_n(next.version))
                .item("probes", to_n(next.probes))
                .item("successes", to_n(next.successes))
                .item("writer", to_s(&next.writer));
            // First write of a breaker (or after the table was emptied): no
            // record; otherwise the version this container last saw.
            let put = put
                .condition_expression("attribute_not_exists(#name) OR #version = :previous")
                .expression_attribute_names("#name", "name")
                .expression_attribute_names("#version", "version")
                .expression_attribute_values(":previous", to_n(next.version.saturating_sub(1)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            let written = self.table.conditional("PutItem", || key(&next.name), put.send().await).await;
            match written.map_err(of_breaker)? {
                Written::Applied(_) => Ok(true),
                // This transition's own earlier attempt, applied though its
                // answer was lost.
                Written::Refused(Some(item)) => {
                    let stored = Self::record_of(&item, "PutItem")?;
                    Ok(stored.version == next.version && stored.writer == next.writer)
                }
                Written::Refused(None) => Ok(false),
            }
        })
    }

    fn lease_probe<'a>(&'a self, name: &'a str, version: u64, max: u32) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let update = self
                .half_open_update(name, version, "SET #probes = #probes + :one", Some("#probes < :max"))
                .expression_attribute_names("#probes", "probes")
                .expression_attribute_values(":max", to_n(max));
            Ok(self.table.update_if(update).await.map_err(of_breaker)?.is_some())
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
                .expression_attribute_values(":zero", to_n(0))
                .return_values(ReturnValue::UpdatedNew);
            let Some(output) = self.table.update_if(update).await.map_err(of_breaker)? else { return Ok(None) };
            let count = output.attributes().and_then(|a| a.get("successes")).and_then(|v| v.as_n().ok());
            count.and_then(|n| n.parse().ok()).map(Some).ok_or_else(|| {
                of_breaker(StoreError::unavailable("UpdateItem", "the successes count is missing from the answer"))
            })
        })
    }
}
