//! The same trip saga from a Step Functions definition
//! (`trip.asl.json`: BookHotel, BookFlight, BookRental and their Cancel
//! states), with each `Resource` registered to a task.

use halo::saga::asl::AslRegistry;
use halo::saga::{Saga, StepCtx};
use serde_json::{Value, json};

use crate::services::Services;

/// The Step Functions definition, bundled.
pub const TRIP_ASL: &str = include_str!("../trip.asl.json");

fn fails(state: &Value, name: &str) -> bool {
    state["fail"].as_array().is_some_and(|f| f.iter().any(|v| v == name))
}

async fn book(ctx: StepCtx, state: Value, kind: &'static str, step: &'static str) -> Result<Value, halo::Error> {
    let id = ctx.state::<Services>()?.book(kind, &ctx.idempotency_token(), fails(&state, step)).await?;
    Ok(json!({ "id": id }))
}

/// Cancels the booking the state `booking` made: by its id from the
/// state's `result`, or, without a result (the booking failed or was
/// interrupted by a crash after it may have booked), by that state's
/// idempotency token, the key it booked with.
async fn cancel(
    ctx: StepCtx,
    state: Value,
    kind: &'static str,
    booking: &'static str,
    step: &'static str,
) -> Result<Value, halo::Error> {
    let fail = fails(&state, step);
    match state[format!("{booking}Result")]["id"].as_str() {
        Some(id) => {
            ctx.state::<Services>()?.cancel(kind, id, fail).await?;
            Ok(json!({ "cancelled": id }))
        }
        None => {
            let token = ctx.idempotency_token_of(booking);
            ctx.state::<Services>()?.cancel_by_key(kind, &token, fail).await?;
            Ok(json!({ "cancelled_key": token }))
        }
    }
}

/// The trip saga loaded from [`TRIP_ASL`], named `trip-asl`.
pub fn trip_saga_asl() -> Result<Saga<Value, Value>, halo::saga::asl::AslError> {
    let registry = AslRegistry::new()
        .task("BookHotel", |ctx, state| book(ctx, state, "hotels", "book_hotel"))
        .task("BookFlight", |ctx, state| book(ctx, state, "flights", "book_flight"))
        .task("BookRental", |ctx, state| book(ctx, state, "rentals", "book_rental"))
        .task("CancelHotel", |ctx, state| cancel(ctx, state, "hotels", "BookHotel", "cancel_hotel"))
        .task("CancelFlight", |ctx, state| cancel(ctx, state, "flights", "BookFlight", "cancel_flight"))
        .task("CancelRental", |ctx, state| cancel(ctx, state, "rentals", "BookRental", "cancel_rental"));
    Ok(Saga::from_asl(TRIP_ASL, &registry)?.with_name("trip-asl"))
}
