struct State;
struct Other;

async fn init() -> Result<State, String> {
    Ok(State)
}

#[halo::handler(init = init)]
async fn handler(event: String, _ctx: &halo::Ctx, _state: &Other) -> Result<String, halo::Error> {
    Ok(event)
}
