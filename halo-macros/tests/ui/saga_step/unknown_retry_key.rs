use halo::saga::StepCtx;

#[halo::saga_step(retry(attempts = 3, delay = 100))]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    Ok(city)
}

fn main() {}
