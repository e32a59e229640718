//! An API Gateway (REST) fixture for halo's end-to-end tests. The path
//! chooses the behaviour: `/echo` answers 200, `/sleep?ms=N` sleeps,
//! `/panic` panics, `/fail` returns an internal error whose cause holds a
//! secret, `/reject` a 422. Each writes one debug line first.

use std::time::Duration;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use aws_lambda_events::encodings::Body;

#[halo::handler(timeout_margin_ms = 300)]
async fn handler(request: ApiGatewayProxyRequest, ctx: &halo::Ctx) -> Result<ApiGatewayProxyResponse, halo::Error> {
    let path = request.path.clone().unwrap_or_default();
    tracing::debug!(path, "fixture debug line");
    match path.as_str() {
        "/sleep" => {
            let ms = request.query_string_parameters.first("ms").and_then(|m| m.parse().ok()).unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        "/panic" => panic!("fixture panic: api_key=AKIA-SECRET"),
        "/fail" => return Err(halo::Error::internal("connection to db://admin:hunter2@db failed")),
        "/reject" => return Err(halo::Error::unprocessable("amount must be positive").with_code("InvalidAmount")),
        _ => {}
    }
    tracing::info!(correlation_id_seen = ctx.correlation_id().unwrap_or(""), "fixture done");
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    response.body = Some(Body::Text(format!("{{\"path\":\"{path}\"}}")));
    Ok(response)
}
