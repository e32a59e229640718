//! The scheduled sweeper (EventBridge, every five minutes): ends the jobs
//! past their deadline, naming the parts that never arrived (the asset is
//! marked failed), and runs again the fan-ins that failed or whose run
//! died. The event's content is not used.

use halo::fanout::SweepReport;
use renditions::app::{App, init};

#[halo::handler(init = init)]
async fn handler(_event: serde_json::Value, _ctx: &halo::Ctx, app: &App) -> Result<SweepReport, halo::Error> {
    Ok(app.fanout.sweep(|fan_in| app.publish(fan_in), 100).await?)
}
