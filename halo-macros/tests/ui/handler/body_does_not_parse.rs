// A syntax error while editing: rustc's error is the only one. The
// function is kept as written, so its caller below is not reported.
#[halo::handler]
async fn handler(event: serde_json::Value, _ctx: &halo::Ctx) -> Result<serde_json::Value, halo::Error> {
    let echoed = ;
    Ok(event)
}

async fn caller(ctx: &halo::Ctx) -> Result<serde_json::Value, halo::Error> {
    handler(serde_json::Value::Null, ctx).await
}
