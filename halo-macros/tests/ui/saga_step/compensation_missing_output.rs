use halo::saga::StepCtx;

#[halo::saga_step(compensate = cancel_hotel)]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<u64, halo::Error> {
    Ok(city.len() as u64)
}

// A compensation takes the step's input and its output.
async fn cancel_hotel(_ctx: &StepCtx, _city: String) -> Result<(), halo::Error> {
    Ok(())
}

fn main() {}
