//! The dead-letter queue's consumer: a part whose message failed
//! `maxReceiveCount` times is recorded as failed; when that ends the
//! asset's job, the fan-in runs here and marks the asset failed.

use halo::batch::{BatchResponse, RawData, Sqs};
use renditions::app::{App, init};

#[halo::handler(init = init)]
async fn handler(batch: Sqs<RawData>, _ctx: &halo::Ctx, app: &App) -> Result<BatchResponse, halo::Error> {
    app.fanout.process_dead_letters(batch, |fan_in| app.publish(fan_in)).await
}
