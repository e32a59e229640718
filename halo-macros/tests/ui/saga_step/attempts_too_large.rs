use halo::saga::StepCtx;

// `attempts` is a `u32`: 5000000000 does not fit, and is not truncated.
#[halo::saga_step(retry(attempts = 5000000000))]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    Ok(city)
}

fn main() {}
