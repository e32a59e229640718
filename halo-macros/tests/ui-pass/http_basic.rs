//! The generated `main` sits in a module so this test binary's own `main`
//! (which trybuild runs) does nothing but check the function is untouched.
mod app {
    use axum::Router;
    use axum::routing::get;

    async fn hello(ctx: halo::Ctx) -> String {
        format!("hello from {}", ctx.request_id())
    }

    #[halo::http]
    pub fn router() -> Router {
        Router::new().route("/hello", get(hello))
    }
}

fn main() {
    // The router function stays an ordinary fn that tests can call.
    let _router: axum::Router = app::router();
}
