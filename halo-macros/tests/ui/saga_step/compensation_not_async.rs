use halo::saga::StepCtx;

#[halo::saga_step(compensate = cancel_hotel)]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    Ok(city)
}

// A compensation must be an `async fn` too.
fn cancel_hotel(_ctx: &StepCtx, _city: String, _booking: Option<String>) -> Result<(), halo::Error> {
    Ok(())
}

fn main() {}
