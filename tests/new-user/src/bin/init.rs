//! The guide's `docs/handler.md`, "One-time init".

struct State { table: String }

async fn init() -> Result<State, std::env::VarError> {
    Ok(State { table: std::env::var("TABLE_NAME")? })
}

#[halo::handler(init = init)]
async fn handler(id: String, _ctx: &halo::Ctx, state: &State) -> Result<String, halo::Error> {
    Ok(format!("{id} is stored in {}", state.table))
}
