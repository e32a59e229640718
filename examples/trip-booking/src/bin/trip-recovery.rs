//! The scheduled recovery function: finds trip sagas that made no progress
//! for 5 minutes (a container killed mid-saga, a suspended saga nobody
//! retried) and continues them, so no trip stays without an outcome.
//!
//! Triggered by an EventBridge schedule (see `template.yaml`); the event's
//! content is not used.

use halo::saga::{RecoverOptions, recover};
use serde::Serialize;
use trip_booking::{State, init};

#[derive(Debug, Serialize)]
struct Summary {
    finished: usize,
    pending: usize,
    unknown: usize,
}

#[halo::handler(init = init)]
async fn handler(_event: serde_json::Value, _ctx: &halo::Ctx, state: &State) -> Result<Summary, halo::Error> {
    let report = recover(&*state.log, &[&state.saga, &state.saga_asl], RecoverOptions::default())
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
