// A syntax error while editing: rustc's error is the only one. The
// function is kept as written, so its caller below is not reported.
use halo::saga::StepCtx;

#[halo::saga_step]
async fn book_hotel(_ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
    let booking = format!("{city}:booked")
    Ok(booking)
}

async fn caller(ctx: &StepCtx) -> Result<String, halo::Error> {
    book_hotel(ctx, "Lisbon".to_owned()).await
}

fn main() {
    let _ = caller;
}
