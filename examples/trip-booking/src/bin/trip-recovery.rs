//! The scheduled recovery function: finds trip sagas that made no progress
//! for a while (5 minutes by default: a container killed mid-saga, a
//! suspended saga nobody retried) and continues them, so no trip stays
//! without an outcome; with `TRIP_RECOVER_COMPENSATE_AFTER_S`, trips older
//! than that are cancelled instead (see [`trip_booking::recovery`]).
//!
//! Triggered by an EventBridge schedule (see `template.yaml`); the event's
//! content is not used.

use halo::saga::{RecoverOptions, recover};
use serde::Serialize;
use trip_booking::State;

#[derive(Debug, Serialize)]
struct Summary {
    finished: usize,
    pending: usize,
    unknown: usize,
}

struct Recovery {
    state: State,
    options: RecoverOptions,
}

async fn init() -> Result<Recovery, String> {
    let options = trip_booking::recovery::options_from_env()?;
    Ok(Recovery { state: trip_booking::init().await?, options })
}

#[halo::handler(init = init)]
async fn handler(_event: serde_json::Value, _ctx: &halo::Ctx, recovery: &Recovery) -> Result<Summary, halo::Error> {
    let state = &recovery.state;
    let report = recover(&*state.log, &[&state.saga, &state.saga_asl], recovery.options.clone())
        .await
        .map_err(|e| halo::Error::unavailable("the saga log is unavailable").with_source(e))?;
    for (saga_id, outcome) in &report.finished {
        match outcome {
            Ok(()) => tracing::info!(saga_id = %saga_id, "recovered saga committed"),
            Err(err) => tracing::warn!(saga_id = %saga_id, error = %err, "recovered saga ended without committing"),
        }
    }
    Ok(Summary { finished: report.finished.len(), pending: report.pending.len(), unknown: report.unknown.len() })
}
