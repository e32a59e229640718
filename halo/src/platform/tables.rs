//! What halo's DynamoDB stores share when they create their tables (for
//! tests and local set-ups).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::TimeToLiveSpecification;

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
