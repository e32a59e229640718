use halo::saga::StepCtx;

#[halo::saga_step(compensate = cancel_hotel)]
fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    Ok(city)
}

async fn cancel_hotel(_ctx: &StepCtx, _city: String, _booking: Option<String>) -> Result<(), halo::Error> {
    Ok(())
}

fn main() {}
