use halo::saga::StepCtx;

#[halo::saga_step]
async fn book_hotel(_ctx: &StepCtx, city: String) -> String {
    city
}

fn main() {}
