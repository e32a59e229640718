//! The orders table's stream consumer: reacts to each change in order and,
//! on a failure, reports its sequence number so Lambda retries from there
//! (bounded by the mapping's `MaximumRetryAttempts` and
//! `MaximumRecordAgeInSeconds`, then the on-failure destination).

use aws_lambda_events::event::dynamodb::EventRecord;
use halo::batch::{BatchOptions, BatchResponse, DynamoDbStream};

async fn on_change(record: EventRecord) -> Result<(), halo::Error> {
    let image = serde_json::to_value(&record.change.new_image)?;
    let status = image["status"]["S"].as_str().unwrap_or_default();
    if status == "BROKEN" {
        return Err(halo::Error::unprocessable("the order is in an unknown state").with_code("BrokenOrder"));
    }
    tracing::info!(event = %record.event_name, order_id = image["order_id"]["S"].as_str(), status, "order changed");
    Ok(())
}

#[halo::handler]
async fn handler(stream: DynamoDbStream, _ctx: &halo::Ctx) -> Result<BatchResponse, halo::Error> {
    stream.process(&BatchOptions::default(), on_change).await
}
