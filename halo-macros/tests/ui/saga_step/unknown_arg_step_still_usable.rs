use halo::saga::{Saga, StepCtx};

// A typo in the arguments: the one error is the typo's; the step still
// exists, so the saga below still type-checks.
#[halo::saga_step(side_efects = true)]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    Ok(city)
}

fn main() {
    let _saga: Saga<String, String> = Saga::new("trip").step(book_hotel);
}
