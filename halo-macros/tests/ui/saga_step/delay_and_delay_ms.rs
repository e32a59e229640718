use halo::saga::StepCtx;

#[halo::saga_step(retry(attempts = 3, initial_delay_ms = 50, initial_delay = "50ms"))]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    Ok(city)
}

fn main() {}
