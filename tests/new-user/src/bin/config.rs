//! The guide's `docs/params.md` (its `init` is also in README "A tour"):
//! typed settings with a secret (from `HALO_PARAM_*` variables in a local run).

use aws_lambda_events::apigw::ApiGatewayProxyRequest as Request;
use halo::params::{LiveConfig, Params, ParamsError, Secret};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Limits { max_items: u32 }

#[derive(Debug, Deserialize)]
struct Settings { greeting: String, limits: Limits, allowed_origins: Vec<String>, api_key: Secret<String> }

async fn init() -> Result<LiveConfig<Settings>, ParamsError> {
    let stage = std::env::var("HALO_STAGE").unwrap_or_else(|_| "dev".into());
    Params::from_env().await?.load(&format!("/halo-examples/{stage}/config-api")).await
}

#[halo::handler(init = init)]
async fn handler(req: Request, ctx: &halo::Ctx, config: &LiveConfig<Settings>) -> Result<halo::JsonResponse, halo::Error> {
    let settings = config.get(); // an in-memory read, no I/O
    let name = req.query_string_parameters.first("name").unwrap_or("world").to_owned();
    tracing::info!(settings = ?settings, request_id = ctx.request_id(), "settings read");
    let body = serde_json::json!({
        "message": format!("{}, {name}", settings.greeting),
        "max_items": settings.limits.max_items,
        "origins": settings.allowed_origins,
        "key_length": settings.api_key.expose().len(),
    });
    halo::JsonResponse::new(200, &body)
}
