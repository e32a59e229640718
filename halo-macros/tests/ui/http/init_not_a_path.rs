#[halo::http(init = "init")]
fn router(state: String) -> axum::Router {
    axum::Router::new().with_state(state)
}
