//! trip-booking: a saga that books a hotel, a flight and a rental car, and
//! cancels what was booked when a later booking fails.
//!
//! The saga is defined twice, to show both styles: with
//! `#[halo::saga_step]` ([`steps`]) and from a Step Functions
//! definition ([`asl`]). Both run on halo's durable saga log (DynamoDB in
//! Lambda, memory locally) and call three booking services over HTTP with
//! correlation headers ([`services`]); locally those are in-process stubs
//! ([`stubs`]).

pub mod asl;
pub mod recovery;
pub mod services;
pub mod steps;
pub mod stubs;
pub mod trip;

use std::sync::Arc;

use halo::saga::Saga;
use halo::saga::log::SagaLog;
use serde_json::Value;

/// The variable with the booking services' base URL. Unset in a local run:
/// the in-process stubs serve.
pub const SERVICES_ENV: &str = "TRIP_SERVICES_URL";

/// Per-container state: the saga log and both definitions.
pub struct State {
    /// DynamoDB (`HALO_SAGA_TABLE`) in Lambda, memory locally.
    pub log: Arc<dyn SagaLog>,
    /// The saga written with macros.
    pub saga: Saga<trip::Trip>,
    /// The saga loaded from the ASL definition.
    pub saga_asl: Saga<Value, Value>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State").finish_non_exhaustive()
    }
}

/// Builds the per-container state once: the saga log from the environment,
/// the booking services (stubs when [`SERVICES_ENV`] is unset outside
/// Lambda), both saga definitions.
///
/// Inside Lambda the services must be configured, unless `TRIP_STUBS=1`
/// asks for the stubs (the end-to-end tests, a demo deployment).
pub async fn init() -> Result<State, String> {
    let log = halo::saga::log_from_env().await.map_err(|e| format!("saga log: {e}"))?;
    let in_lambda = halo::platform::in_lambda();
    let stubs_asked = std::env::var("TRIP_STUBS").is_ok_and(|v| v == "1");
    let base = match std::env::var(SERVICES_ENV) {
        Ok(base) if !base.trim().is_empty() => base,
        _ if in_lambda && !stubs_asked => {
            return Err(format!("{SERVICES_ENV} must name the booking services (or set TRIP_STUBS=1)"));
        }
        _ => stubs::start().await.map_err(|e| format!("stub services: {e}"))?,
    };
    let services = services::Services::new(base).map_err(|e| format!("HTTP client: {e}"))?;
    let saga_asl = asl::trip_saga_asl().map_err(|e| format!("trip.asl.json: {e}"))?.state(services.clone());
    Ok(State { log, saga: steps::trip_saga().state(services), saga_asl })
}
