//! The parts queue's consumer (`ReportBatchItemFailures`): renders each
//! part, records its output once, and, in the worker whose part completes
//! the asset's job, runs the fan-in that marks the asset ready.

use halo::batch::{BatchOptions, BatchResponse, Sqs};
use renditions::app::{App, init, render_part};
use renditions::asset::Task;

#[halo::handler(init = init)]
async fn handler(batch: Sqs<Task>, _ctx: &halo::Ctx, app: &App) -> Result<BatchResponse, halo::Error> {
    let options = BatchOptions::default().concurrency(4);
    app.fanout.process(batch, &options, render_part, |fan_in| app.publish(fan_in)).await
}
