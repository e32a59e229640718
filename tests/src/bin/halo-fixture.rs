//! A small direct-invoke function for halo's end-to-end tests.
//!
//! The event `{"action": ..}` chooses the behaviour: `echo` returns the
//! event (after sleeping `ms` milliseconds between adding its log key and
//! logging, so overlapping invocations interleave), `fail` returns an internal error whose cause holds a secret,
//! `reject` a 422, `panic` panics, `sleep` logs `sleeping` and sleeps `ms` milliseconds, `log`
//! writes one line per level. With `"metrics": true` an echo also counts
//! `Echoes` before and after its sleep, with its value as metadata.

use std::time::Duration;

use serde::Deserialize;
use tracing::Instrument as _;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Echo,
    Fail,
    Reject,
    Panic,
    Sleep,
    Log,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Event {
    action: Action,
    #[serde(default)]
    value: serde_json::Value,
    #[serde(default)]
    ms: u64,
    #[serde(default)]
    metrics: bool,
}

#[halo::handler]
async fn handler(event: Event, ctx: &halo::Ctx) -> Result<serde_json::Value, halo::Error> {
    let Event { action, value, ms, metrics } = event;
    let count = |metric: &str| match metrics {
        true => halo::metrics::add_metric(metric, halo::metrics::Unit::Count, 1.0),
        false => Ok(()),
    };
    match action {
        Action::Echo => {
            ctx.append_log_key("echo_key", value.clone());
            count("Echoes")?;
            if metrics {
                halo::metrics::add_metadata("echo", value.clone())?;
            }
            if ms > 0 {
                tokio::time::sleep(Duration::from_millis(ms)).instrument(tracing::info_span!("echo.wait")).await;
            }
            count("Echoes")?;
            tracing::info!(seen = %value, "echo");
            Ok(serde_json::json!({ "echo": value, "cold_start": ctx.cold_start(), "request_id": ctx.request_id() }))
        }
        Action::Fail => Err(halo::Error::internal("database password=hunter2 rejected")),
        Action::Reject => Err(halo::Error::unprocessable("amount must be positive")),
        Action::Panic => panic!("fixture panic with token=s3cr3t"),
        Action::Sleep => {
            tracing::info!(ms, "sleeping");
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(serde_json::json!({ "slept_ms": ms }))
        }
        Action::Log => {
            tracing::error!("error line");
            tracing::warn!("warn line");
            tracing::info!("info line");
            tracing::debug!("debug line");
            Ok(serde_json::Value::Null)
        }
    }
}
