struct State;

async fn init() -> Result<State, String> {
    Ok(State)
}

#[halo::handler(init = init)]
async fn handler(event: String, _ctx: &halo::Ctx, _state: State) -> Result<String, halo::Error> {
    Ok(event)
}
