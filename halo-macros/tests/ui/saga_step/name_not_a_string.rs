use halo::saga::StepCtx;

#[halo::saga_step(name = book_hotel)]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    Ok(city)
}

fn main() {}
