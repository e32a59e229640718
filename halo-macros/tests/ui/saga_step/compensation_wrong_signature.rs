use halo::saga::StepCtx;

#[halo::saga_step(compensate = cancel_hotel)]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<u64, halo::Error> {
    Ok(city.len() as u64)
}

// The step's input is a `String`, not a `u32`.
async fn cancel_hotel(_ctx: &StepCtx, _nights: u32, _booking: Option<u64>) -> Result<(), halo::Error> {
    Ok(())
}

fn main() {}
