// A syntax error while editing: rustc's error is the only one. The
// function is kept as written, so its caller below is not reported.
#[halo::http]
fn router() -> axum::Router {
    let routes = axum::Router::new()
    routes.route("/", axum::routing::get(|| async { "ok" }))
}

fn caller() -> axum::Router {
    router()
}
