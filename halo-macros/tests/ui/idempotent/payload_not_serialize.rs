struct Opaque;

#[halo::idempotent]
async fn charge(event: Opaque) -> Result<String, halo::Error> {
    let _ = event;
    Ok(String::new())
}

fn main() {}
