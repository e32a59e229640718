struct Order {
    id: String,
}

#[halo::handler]
async fn handler(order: Order, _ctx: &halo::Ctx) -> Result<String, halo::Error> {
    Ok(order.id)
}
