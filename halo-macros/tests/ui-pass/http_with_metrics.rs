//! `metrics` on `#[halo::http]`, with and without `init`, as on
//! `#[halo::handler]`: required, or off. The generated `main`s sit in
//! modules so this test binary's own `main` only builds the routers.
mod required {
    use axum::Router;
    use axum::routing::get;

    #[derive(Clone)]
    pub struct App;

    pub async fn init() -> Result<App, std::io::Error> {
        Ok(App)
    }

    #[halo::http(init = init, metrics)]
    pub fn router(app: App) -> Router {
        Router::new().route("/", get(|| async { "hi" })).with_state(app)
    }
}

mod off {
    #[halo::http(metrics = false)]
    pub fn router() -> axum::Router {
        axum::Router::new()
    }
}

fn main() {
    let _required: axum::Router = required::router(required::App);
    let _off: axum::Router = off::router();
}
