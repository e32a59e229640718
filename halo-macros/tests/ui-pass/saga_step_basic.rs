use halo::saga::{Saga, Step, StepCtx};

/// A `pub` step's input and output types must be public too (they are the
/// associated types of its `Step` impl).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Trip {
    city: String,
}

/// Books the hotel.
#[halo::saga_step(
    compensate = cancel_hotel,
    retry(attempts = 3, initial_delay_ms = 10, max_delay_ms = 100, multiplier = 1.5, jitter = false),
    compensation_retry(attempts = 8),
    side_effects = true,
    budget_ms = 500
)]
pub async fn book_hotel(ctx: &StepCtx, trip: Trip) -> Result<String, halo::Error> {
    Ok(format!("{}:{}", trip.city, ctx.idempotency_token()))
}

async fn cancel_hotel(_ctx: &StepCtx, _trip: Trip, _booking: Option<String>) -> Result<(), halo::Error> {
    Ok(())
}

#[halo::saga_step]
async fn read_only(_ctx: &StepCtx, booking: String) -> Result<usize, halo::Error> {
    Ok(booking.len())
}

fn main() {
    let saga: Saga<Trip, usize> = Saga::new("trip").step(book_hotel).step(read_only);
    assert_eq!(saga.step_names(), vec!["book_hotel", "read_only"]);
    assert!(book_hotel.has_compensation());
    assert!(!read_only.has_compensation());
    assert!(book_hotel.options().has_side_effects());
}
