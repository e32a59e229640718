#[halo::http]
fn router(table: String) -> axum::Router {
    axum::Router::new().with_state(table)
}
