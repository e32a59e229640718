#[halo::idempotent(name = "tick")]
async fn tick(_ctx: &halo::Ctx) -> Result<u32, halo::Error> {
    Ok(1)
}

fn main() {}
