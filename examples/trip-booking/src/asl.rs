//! The same trip saga from the seed's Step Functions definition
//! (`trip.asl.json`: BookHotel, BookFlight, BookRental and their Cancel
//! states), with each `Resource` registered to a task.

use halo::saga::asl::AslRegistry;
use halo::saga::{Saga, StepCtx};
use serde_json::{Value, json};

use crate::services::services;

/// The seed's definition, bundled.
pub const TRIP_ASL: &str = include_str!("../trip.asl.json");

fn fails(state: &Value, name: &str) -> bool {
    state["fail"].as_array().is_some_and(|f| f.iter().any(|v| v == name))
}

async fn book(ctx: StepCtx, state: Value, kind: &'static str, step: &'static str) -> Result<Value, halo::Error> {
    let id = services()?.book(kind, &ctx.idempotency_token(), fails(&state, step)).await?;
    Ok(json!({ "id": id }))
}

async fn cancel(
    state: Value,
    kind: &'static str,
    result: &'static str,
    step: &'static str,
) -> Result<Value, halo::Error> {
    // Nothing to cancel when the booking never happened.
    let Some(id) = state[result]["id"].as_str() else { return Ok(json!({ "cancelled": null })) };
    services()?.cancel(kind, id, fails(&state, step)).await?;
    Ok(json!({ "cancelled": id }))
}

/// The trip saga loaded from [`TRIP_ASL`], named `trip-asl`.
pub fn trip_saga_asl() -> Result<Saga<Value, Value>, halo::saga::asl::AslError> {
    let registry = AslRegistry::new()
        .task("BookHotel", |ctx, state| book(ctx, state, "hotels", "book_hotel"))
        .task("BookFlight", |ctx, state| book(ctx, state, "flights", "book_flight"))
        .task("BookRental", |ctx, state| book(ctx, state, "rentals", "book_rental"))
        .task("CancelHotel", |_, state| cancel(state, "hotels", "BookHotelResult", "cancel_hotel"))
        .task("CancelFlight", |_, state| cancel(state, "flights", "BookFlightResult", "cancel_flight"))
        .task("CancelRental", |_, state| cancel(state, "rentals", "BookRentalResult", "cancel_rental"));
    Ok(Saga::from_asl(TRIP_ASL, &registry)?.named("trip-asl"))
}
