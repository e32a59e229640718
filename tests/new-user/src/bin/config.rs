//! README "Configuration from SSM Parameter Store": typed settings with a
//! secret (from `HALO_PARAM_*` variables in a local run).

use aws_lambda_events::apigw::{ApiGatewayProxyRequest as Request, ApiGatewayProxyResponse as Response};
use aws_lambda_events::encodings::Body;
use halo::params::{Config, Params, ParamsError, Secret};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Limits { max_items: u32 }

#[derive(Debug, Deserialize)]
struct Settings { greeting: String, limits: Limits, allowed_origins: Vec<String>, api_key: Secret<String> }

async fn init() -> Result<Config<Settings>, ParamsError> {
    let stage = std::env::var("HALO_STAGE").unwrap_or_else(|_| "dev".into());
    Params::from_env().await?.load(&format!("/halo-examples/{stage}/config-api")).await
}

#[halo::handler(init = init)]
async fn handler(req: Request, ctx: &halo::Ctx, config: &Config<Settings>) -> Result<Response, halo::Error> {
    let settings = config.get(); // an in-memory read, no I/O
    let name = req.query_string_parameters.first("name").unwrap_or("world").to_owned();
    tracing::info!(settings = ?settings, request_id = ctx.request_id(), "settings read");
    let body = serde_json::json!({
        "message": format!("{}, {name}", settings.greeting),
        "max_items": settings.limits.max_items,
        "origins": settings.allowed_origins,
        "key_length": settings.api_key.expose().len(),
    });
    let mut response = Response::default();
    response.status_code = 200;
    response.body = Some(Body::Text(body.to_string()));
    Ok(response)
}
