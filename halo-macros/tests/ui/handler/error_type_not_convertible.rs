#[derive(Debug)]
struct MyError;

#[halo::handler]
async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, MyError> {
    Ok(event)
}
