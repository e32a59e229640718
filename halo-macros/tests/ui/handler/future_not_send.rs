use std::rc::Rc;

#[halo::handler]
async fn handler(event: String, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
    let shared = Rc::new(event);
    tokio::task::yield_now().await;
    Ok(shared.to_string())
}
