#[halo::http(metrics = "Orders")]
fn router() -> axum::Router {
    axum::Router::new()
}
