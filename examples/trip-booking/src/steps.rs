//! The trip saga written with `#[halo::saga_step]`: each step books with
//! one service and names the compensation that cancels it.

use halo::saga::{Saga, StepCtx};

use crate::services::services;
use crate::trip::Trip;

/// Books the hotel.
#[halo::saga_step(compensate = cancel_hotel, compensation_retry(attempts = 3, initial_delay_ms = 20))]
pub async fn book_hotel(ctx: &StepCtx, trip: Trip) -> Result<Trip, halo::Error> {
    let id = services()?.book("hotels", &ctx.idempotency_token(), trip.fails("book_hotel")).await?;
    Ok(Trip { hotel: Some(id), ..trip })
}

/// Cancels the hotel booked by [`book_hotel`] (its output), if any.
pub async fn cancel_hotel(_ctx: &StepCtx, trip: Trip, booked: Option<Trip>) -> Result<(), halo::Error> {
    match booked.and_then(|t| t.hotel) {
        Some(id) => services()?.cancel("hotels", &id, trip.fails("cancel_hotel")).await,
        None => Ok(()),
    }
}

/// Books the flight.
#[halo::saga_step(compensate = cancel_flight, compensation_retry(attempts = 3, initial_delay_ms = 20))]
pub async fn book_flight(ctx: &StepCtx, trip: Trip) -> Result<Trip, halo::Error> {
    let id = services()?.book("flights", &ctx.idempotency_token(), trip.fails("book_flight")).await?;
    Ok(Trip { flight: Some(id), ..trip })
}

/// Cancels the flight booked by [`book_flight`], if any.
pub async fn cancel_flight(_ctx: &StepCtx, trip: Trip, booked: Option<Trip>) -> Result<(), halo::Error> {
    match booked.and_then(|t| t.flight) {
        Some(id) => services()?.cancel("flights", &id, trip.fails("cancel_flight")).await,
        None => Ok(()),
    }
}

/// Books the rental car.
#[halo::saga_step(compensate = cancel_rental, compensation_retry(attempts = 3, initial_delay_ms = 20))]
pub async fn book_rental(ctx: &StepCtx, trip: Trip) -> Result<Trip, halo::Error> {
    let id = services()?.book("rentals", &ctx.idempotency_token(), trip.fails("book_rental")).await?;
    Ok(Trip { rental: Some(id), ..trip })
}

/// Cancels the rental booked by [`book_rental`], if any.
pub async fn cancel_rental(_ctx: &StepCtx, trip: Trip, booked: Option<Trip>) -> Result<(), halo::Error> {
    match booked.and_then(|t| t.rental) {
        Some(id) => services()?.cancel("rentals", &id, trip.fails("cancel_rental")).await,
        None => Ok(()),
    }
}

/// The saga: hotel, then flight, then rental; a failure cancels what was
/// booked, in reverse order.
pub fn trip_saga() -> Saga<Trip> {
    Saga::new("trip").step(book_hotel).step(book_flight).step(book_rental)
}
