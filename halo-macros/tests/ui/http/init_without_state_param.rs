async fn init() -> Result<String, std::io::Error> {
    Ok("table".into())
}

#[halo::http(init = init)]
fn router() -> axum::Router {
    axum::Router::new()
}
