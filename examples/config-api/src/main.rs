//! config-api: settings from SSM Parameter Store with `halo::params`.
//!
//! At init (once per container) it loads every parameter under
//! `/halo-examples/<stage>/config-api` into [`Settings`]; each invocation
//! reads them from memory. Past the max age they are refreshed in the
//! background, and the log level follows `.../log/level` on every refresh.
//!
//! Run it locally, with no AWS account (the parameters come from
//! `params.local.json` and `HALO_PARAM_*` variables):
//!
//! ```text
//! cargo run -p config-api -- invoke examples/config-api/events/hello.json
//! HALO_PARAM_GREETING=bonjour cargo run -p config-api -- invoke examples/config-api/events/hello.json
//! ```

use serde::{Deserialize, Serialize};

use halo::params::{LiveConfig, LogSwitches, Params, ParamsError, Secret};

/// The stage when `HALO_STAGE` is not set.
const DEFAULT_STAGE: &str = "dev";

/// Everything under `/halo-examples/<stage>/config-api`.
#[derive(Debug, Deserialize)]
struct Settings {
    /// `greeting` (String).
    greeting: String,
    /// `allowed_origins` (StringList).
    allowed_origins: Vec<String>,
    /// `limits/max_items`, `limits/page_size` (nested path, JSON numbers).
    limits: Limits,
    /// `features` (a String holding a JSON object).
    features: Features,
    /// `api_key` (SecureString): never printed.
    api_key: Secret<String>,
    /// `log/level`, `log/debug_sample_rate` (optional run-time switches).
    #[serde(default)]
    log: LogSwitches,
}

#[derive(Debug, Deserialize, Serialize, Clone, Copy, PartialEq)]
struct Limits {
    max_items: u32,
    page_size: u32,
}

#[derive(Debug, Deserialize, Serialize, Clone, PartialEq)]
struct Features {
    beta_banner: bool,
    currency: String,
}

struct State {
    stage: String,
    settings: LiveConfig<Settings>,
}

#[derive(Debug, Deserialize)]
struct Request {
    name: Option<String>,
}

/// The answer: a greeting and the non-secret settings.
#[derive(Debug, Serialize)]
struct Reply {
    message: String,
    stage: String,
    limits: Limits,
    features: Features,
    allowed_origins: Vec<String>,
    api_key_configured: bool,
}

/// The path of this service's settings for `stage`.
fn settings_path(stage: &str) -> String {
    format!("/halo-examples/{stage}/config-api")
}

/// Loads the settings once per container (cold-start prefetch).
async fn init() -> Result<State, ParamsError> {
    let stage = std::env::var("HALO_STAGE").unwrap_or_else(|_| DEFAULT_STAGE.to_owned());
    // SSM inside Lambda; locally the environment and this file.
    let params = Params::from_env().await?.local_file(concat!(env!("CARGO_MANIFEST_DIR"), "/params.local.json"));
    let settings = params.load::<Settings>(&settings_path(&stage)).await?;
    // Log level and debug sample rate follow their parameters on every refresh.
    settings.on_change(|s| s.log.apply());
    Ok(State { stage, settings })
}

/// Greets with the configured greeting; logs the settings (the API key
/// shows as `***`).
#[halo::handler(init = init)]
async fn handler(request: Request, _ctx: &halo::Ctx, state: &State) -> Result<Reply, halo::Error> {
    let settings = state.settings.get();
    tracing::info!(settings = ?settings, age_ms = state.settings.age().as_millis() as u64, "settings in use");
    let name = request.name.as_deref().unwrap_or("world");
    Ok(Reply {
        message: format!("{}, {name}", settings.greeting),
        stage: state.stage.clone(),
        limits: settings.limits,
        features: settings.features.clone(),
        allowed_origins: settings.allowed_origins.clone(),
        api_key_configured: !settings.api_key.expose().is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> State {
        State {
            stage: "test".into(),
            settings: LiveConfig::fixed(Settings {
                greeting: "hi".into(),
                allowed_origins: vec!["https://app.example".into()],
                limits: Limits { max_items: 5, page_size: 2 },
                features: Features { beta_banner: false, currency: "USD".into() },
                api_key: Secret::new("k-123".into()),
                log: LogSwitches::default(),
            }),
        }
    }

    #[tokio::test]
    async fn greets_with_the_configured_greeting() {
        let reply = handler(Request { name: Some("Ada".into()) }, &halo::Ctx::for_test(), &state()).await.unwrap();
        assert_eq!(reply.message, "hi, Ada");
        assert_eq!(reply.limits, Limits { max_items: 5, page_size: 2 });
        assert!(reply.api_key_configured);
        let body = serde_json::to_string(&reply).unwrap();
        assert!(!body.contains("k-123"), "{body}");
    }

    #[test]
    fn the_local_file_matches_the_settings_type() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/params.local.json")).unwrap();
        let names: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&text).unwrap();
        assert!(names.keys().all(|k| k.starts_with(&settings_path(DEFAULT_STAGE))));
    }
}
