//! What halo's DynamoDB stores share when they create their tables (for
//! tests and local set-ups).

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{IndexStatus, TableStatus, TimeToLiveSpecification};

/// How long a new table may take to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(120);

/// Waits until `table` and its indexes are `ACTIVE`: `CreateTable` answers
/// while the table is still `CREATING` (seconds on DynamoDB, a moment on an
/// emulator), and writes to it fail with `ResourceNotFoundException` until
/// then.
pub(crate) async fn wait_active(client: &Client, table: &str) -> Result<(), crate::BoxError> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        let described = client.describe_table().table_name(table).send().await.map_err(|e| e.into_service_error())?;
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
            return Err(format!("the table {table} is not active after {} s", ACTIVE_TIMEOUT.as_secs()).into());
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(500));
    }
}

/// Turns on TTL for `table` on the epoch-seconds attribute `attribute`. A
/// DynamoDB without the TTL API (an emulator such as dynalite answers
/// `UnknownOperationException`) keeps the table without TTL, with a
/// warning: halo checks expiry itself, TTL only clears expired items away.
pub(crate) async fn enable_ttl(client: &Client, table: &str, attribute: &str) -> Result<(), crate::BoxError> {
    use aws_sdk_dynamodb::error::ProvideErrorMetadata;

    let ttl = TimeToLiveSpecification::builder().enabled(true).attribute_name(attribute).build()?;
    let result = client.update_time_to_live().table_name(table).time_to_live_specification(ttl).send().await;
    match result {
        Ok(_) => Ok(()),
        Err(err)
            if err.as_service_error().and_then(ProvideErrorMetadata::code) == Some("UnknownOperationException") =>
        {
            tracing::warn!(table, "this DynamoDB has no UpdateTimeToLive: the table is created without TTL");
            Ok(())
        }
        Err(err) => Err(err.into_service_error().into()),
    }
}
