use halo::saga::StepCtx;

// `budget_ms` is another form of `budget`: give one.
#[halo::saga_step(budget = "2s", budget_ms = 2000)]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    Ok(city)
}

fn main() {}
