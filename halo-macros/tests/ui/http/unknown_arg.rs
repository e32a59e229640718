#[halo::http(port = 3000)]
fn router() -> axum::Router {
    axum::Router::new()
}
