mod app {
    pub struct State {
        pub prefix: String,
    }

    pub async fn init() -> Result<State, std::io::Error> {
        Ok(State { prefix: "hi".into() })
    }

    #[derive(Debug)]
    pub enum AppError {
        Missing,
    }

    impl halo::IntoError for AppError {
        fn into_error(self) -> halo::Error {
            halo::Error::not_found("missing")
        }
    }

    #[halo::handler(init = init)]
    pub async fn handler(name: Option<String>, _ctx: &halo::Ctx, state: &State) -> Result<String, AppError> {
        let name = name.ok_or(AppError::Missing)?;
        Ok(format!("{} {name}", state.prefix))
    }
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let state = runtime.block_on(app::init()).unwrap();
    let ctx = halo::Ctx::for_test();
    assert_eq!(runtime.block_on(app::handler(Some("Ada".into()), &ctx, &state)).unwrap(), "hi Ada");
    assert!(runtime.block_on(app::handler(None, &ctx, &state)).is_err());
}
