//! Durations as strings: `budget`, and `initial_delay` / `max_delay` inside
//! `retry(...)` and `compensation_retry(...)`, with every unit.
use halo::saga::{Saga, Step, StepCtx};

#[halo::saga_step(
    compensate = cancel_hotel,
    retry(attempts = 3, initial_delay = "50ms", max_delay = "2s", multiplier = 2),
    compensation_retry(attempts = 8, initial_delay = "1s", max_delay = "1m"),
    budget = "2s"
)]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    Ok(city)
}

async fn cancel_hotel(_ctx: &StepCtx, _city: String, _booking: Option<String>) -> Result<(), halo::Error> {
    Ok(())
}

#[halo::saga_step(retry(attempts = 2, initial_delay = "1h", max_delay = "1d"), budget = "0ms")]
async fn wait_long(_ctx: &StepCtx, booking: String) -> Result<usize, halo::Error> {
    Ok(booking.len())
}

fn main() {
    let saga: Saga<String, usize> = Saga::new("trip").step(book_hotel).step(wait_long);
    assert_eq!(saga.step_names(), vec!["book_hotel", "wait_long"]);
    assert!(book_hotel.has_compensation());
}
