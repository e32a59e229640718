//! With `init`: the state is built once per container and handed to the
//! router function. The generated `main` sits in a module, as in
//! `http_basic.rs`.
mod app {
    use axum::Router;
    use axum::extract::State;
    use axum::routing::get;

    #[derive(Clone)]
    pub struct App {
        table: String,
    }

    pub async fn init() -> Result<App, std::io::Error> {
        Ok(App { table: "todos".into() })
    }

    async fn table(State(app): State<App>) -> String {
        app.table
    }

    #[halo::http(init = init)]
    pub fn router(app: App) -> Router {
        Router::new().route("/table", get(table)).with_state(app)
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let app = runtime.block_on(app::init()).unwrap();
    let _router: axum::Router = app::router(app);
}
