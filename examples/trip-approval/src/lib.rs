//! trip-approval: a trip booking saga on Lambda durable functions, with a
//! manager's approval between its steps.
//!
//! One execution books one trip: it reserves the hotel, books the flight,
//! sends the manager an approval request and stops, at no cost, until the
//! manager answers (a durable callback, up to
//! [`steps::APPROVAL_TIMEOUT`]); then it charges the card. A declined (or
//! unanswered) approval cancels the flight and the hotel, in reverse order.
//!
//! The saga is the same `halo::saga::Saga` that runs on halo's saga log
//! (see the `trip-booking` example), run with
//! [`Saga::run_durable`](halo::saga::Saga::run_durable): each step and each
//! compensation is a named durable step, so when the execution resumes
//! after the approval, the steps already done return their recorded
//! outputs instead of running again. The services are in-memory stubs
//! ([`services`]) that count every effect by idempotency token.

pub mod services;
pub mod steps;
pub mod trip;

use halo::durable_execution::Execution;
use halo::saga::Saga;

use crate::services::Services;
use crate::trip::{Booking, Trip};

/// Per-container state: the saga (with the services as its state) and the
/// services themselves.
#[derive(Debug)]
pub struct State {
    /// The trip saga, its steps reaching [`State::services`] with
    /// `ctx.state::<Services>()`.
    pub saga: Saga<Trip, Booking>,
    /// The stub services (shared with the saga).
    pub services: Services,
}

impl State {
    /// The saga over `services`.
    pub fn new(services: Services) -> State {
        State { saga: steps::trip_saga().state(services.clone()), services }
    }
}

/// Builds the per-container state once. (The saga keeps its progress in
/// the durable execution's checkpoints: a durable function needs no saga
/// table, unless `HALO_SAGA_BACKEND=log` asks for halo's saga log.)
pub async fn init() -> Result<State, std::convert::Infallible> {
    Ok(State::new(Services::new()))
}

/// Books `trip`: the durable handler, run once per invocation of the
/// execution (after the approval, the execution is invoked again and the
/// steps already done are replayed from their checkpoints).
///
/// A rolled-back saga (a declined approval, one that timed out) fails the
/// execution with `SagaRolledBack` and a message naming the failed step
/// and its public reason; a trip that does not validate fails it with
/// `Unprocessable` before anything is booked.
pub async fn book_trip(trip: Trip, _ctx: &halo::Ctx, execution: &Execution<State>) -> Result<Booking, halo::Error> {
    trip.validate()?;
    // Written once per execution: halo drops log lines while the execution replays.
    tracing::info!(trip_id = %trip.trip_id, "booking the trip");
    let saga_id = trip.trip_id.clone();
    let booking = execution.state().saga.run_durable(execution, &saga_id, trip).await?;
    tracing::info!(trip_id = %booking.trip_id, charge = %booking.charge, "trip booked");
    Ok(booking)
}
