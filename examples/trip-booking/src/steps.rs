//! The trip saga written with `#[halo::saga_step]`: each step books with
//! one service and names the compensation that cancels it.
//!
//! A compensation cancels by the booking id from the step's output, or,
//! given no output (the step was interrupted, by a crash, after it may have
//! booked), by the step's idempotency token, which the step sent as the
//! booking's idempotency key.

use halo::saga::{Saga, StepCtx};

use crate::services::Services;
use crate::trip::Trip;

/// Books the hotel.
#[halo::saga_step(compensate = cancel_hotel, compensation_retry(attempts = 3, initial_delay = "20ms"))]
pub async fn book_hotel(ctx: &StepCtx, trip: Trip) -> Result<Trip, halo::Error> {
    let id = ctx.state::<Services>()?.book("hotels", &ctx.idempotency_token(), trip.fails("book_hotel")).await?;
    Ok(Trip { hotel: Some(id), ..trip })
}

/// Cancels the hotel booked by [`book_hotel`]: by its id, or by the step's
/// token when the step was interrupted.
pub async fn cancel_hotel(ctx: &StepCtx, trip: Trip, booked: Option<Trip>) -> Result<(), halo::Error> {
    cancel(ctx, "hotels", booked.and_then(|t| t.hotel), trip.fails("cancel_hotel")).await
}

/// Books the flight.
#[halo::saga_step(compensate = cancel_flight, compensation_retry(attempts = 3, initial_delay = "20ms"))]
pub async fn book_flight(ctx: &StepCtx, trip: Trip) -> Result<Trip, halo::Error> {
    let id = ctx.state::<Services>()?.book("flights", &ctx.idempotency_token(), trip.fails("book_flight")).await?;
    Ok(Trip { flight: Some(id), ..trip })
}

/// Cancels the flight booked by [`book_flight`] (by id, else by token).
pub async fn cancel_flight(ctx: &StepCtx, trip: Trip, booked: Option<Trip>) -> Result<(), halo::Error> {
    cancel(ctx, "flights", booked.and_then(|t| t.flight), trip.fails("cancel_flight")).await
}

/// Books the rental car.
#[halo::saga_step(compensate = cancel_rental, compensation_retry(attempts = 3, initial_delay = "20ms"))]
pub async fn book_rental(ctx: &StepCtx, trip: Trip) -> Result<Trip, halo::Error> {
    let id = ctx.state::<Services>()?.book("rentals", &ctx.idempotency_token(), trip.fails("book_rental")).await?;
    Ok(Trip { rental: Some(id), ..trip })
}

/// Cancels the rental booked by [`book_rental`] (by id, else by token).
pub async fn cancel_rental(ctx: &StepCtx, trip: Trip, booked: Option<Trip>) -> Result<(), halo::Error> {
    cancel(ctx, "rentals", booked.and_then(|t| t.rental), trip.fails("cancel_rental")).await
}

/// Cancels the booking `id`, or, without one, whatever the step's token booked.
async fn cancel(ctx: &StepCtx, kind: &str, id: Option<String>, fail: bool) -> Result<(), halo::Error> {
    match id {
        Some(id) => ctx.state::<Services>()?.cancel(kind, &id, fail).await,
        None => ctx.state::<Services>()?.cancel_by_key(kind, &ctx.idempotency_token(), fail).await,
    }
}

/// The saga: hotel, then flight, then rental; a failure cancels what was
/// booked, in reverse order.
pub fn trip_saga() -> Saga<Trip> {
    Saga::new("trip").step(book_hotel).step(book_flight).step(book_rental)
}
