//! The health probe: a scheduled check (a 5xx or a timeout is unhealthy),
//! writing the shared state that call-based breakers read.

use std::time::Duration;

use super::policy::BreakerPolicy;
use super::state::BreakerState;
use super::store::{BreakerStore, SharedState};
use crate::durable::StoreError;

/// What the probe found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Health {
    /// The URL answered below 500 in time.
    Healthy,
    /// It answered 5xx, timed out or could not be reached.
    Unhealthy,
}

/// Checks `url` with one GET (no retry) within `timeout` and writes the
/// breaker `name`'s shared state: unhealthy opens it (a longer open time
/// on each repeated trip), healthy moves an open breaker to half-open so
/// the fleet's probe calls confirm it. For a scheduled function (e.g.
/// every minute); calls keep tripping the breaker on their own too.
///
/// ```no_run
/// # async fn run(store: &dyn halo::breaker::store::BreakerStore) -> Result<(), halo::durable::StoreError> {
/// use std::time::Duration;
/// use halo::breaker::{BreakerPolicy, probe};
///
/// let health = probe(store, "payments", "https://payments.internal/health", &BreakerPolicy::default(), Duration::from_secs(2)).await?;
/// # Ok(()) }
/// ```
pub async fn probe(
    store: &dyn BreakerStore,
    name: &str,
    url: &str,
    policy: &BreakerPolicy,
    timeout: Duration,
) -> Result<Health, StoreError> {
    let health = check(url, timeout).await;
    let now = crate::platform::Clock::now_ms(&crate::platform::SystemClock);
    let current = store.load(name).await?;
    let (state, version, trips) =
        current.as_ref().map_or((BreakerState::Closed, 0, 0), |c| (c.state, c.version, c.trips));
    // This probe run's token: its transition is its own write if retried.
    let writer = format!("probe-{}", uuid::Uuid::new_v4().simple());
    let next = match (health, state) {
        (Health::Unhealthy, BreakerState::Closed | BreakerState::HalfOpen) => {
            let trip = if state == BreakerState::HalfOpen { trips + 1 } else { 1 };
            Some(SharedState {
                name: name.to_owned(),
                state: BreakerState::Open,
                open_until_ms: now + policy.open_duration(trip).as_millis() as u64,
                trips: trip,
                version: version + 1,
                probes: 0,
                successes: 0,
                writer,
            })
        }
        (Health::Healthy, BreakerState::Open) => Some(SharedState {
            name: name.to_owned(),
            state: BreakerState::HalfOpen,
            open_until_ms: super::state::half_open_deadline(now, policy),
            trips,
            version: version + 1,
            probes: 0,
            successes: 0,
            writer,
        }),
        _ => None,
    };
    if let Some(next) = next {
        let written = store.publish(&next).await?;
        tracing::warn!(
            breaker = name,
            from = state.as_str(),
            to = next.state.as_str(),
            reason = if health == Health::Healthy { "health probe healthy" } else { "health probe unhealthy" },
            written,
            "circuit breaker transition"
        );
    }
    tracing::info!(breaker = name, healthy = health == Health::Healthy, "health probe");
    Ok(health)
}

async fn check(url: &str, timeout: Duration) -> Health {
    let client = match crate::http::Client::builder().max_attempts(1).attempt_timeout(timeout).build() {
        Ok(client) => client,
        Err(_) => return Health::Unhealthy,
    };
    // The client maps 5xx, timeouts and connect errors to errors.
    match client.get(url).send().await {
        Ok(response) if response.status().as_u16() < 500 => Health::Healthy,
        _ => Health::Unhealthy,
    }
}
