//! What halo's DynamoDB stores share when they create their tables (for
//! tests and local set-ups).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TimeToLiveSpecification;

/// Turns on TTL for `table` on the epoch-seconds attribute `attribute`.
pub(crate) async fn enable_ttl(client: &Client, table: &str, attribute: &str) -> Result<(), crate::BoxError> {
    let ttl = TimeToLiveSpecification::builder().enabled(true).attribute_name(attribute).build()?;
    client
        .update_time_to_live()
        .table_name(table)
        .time_to_live_specification(ttl)
        .send()
        .await
        .map_err(|e| e.into_service_error())?;
    Ok(())
}
