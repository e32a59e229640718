#[halo::http]
async fn router() -> axum::Router {
    axum::Router::new()
}
