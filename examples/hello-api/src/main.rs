//! hello-api: an API Gateway (REST proxy) handler on halo.
//!
//! `GET /hello?name=Ada` answers `{"message": "hello, Ada"}`. Run it locally:
//!
//! ```text
//! cargo run -p hello-api -- invoke examples/hello-api/events/get-hello.json
//! ```

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use serde::Serialize;

/// The longest name we greet.
const MAX_NAME_LEN: usize = 64;

#[derive(Debug, Serialize, PartialEq)]
struct Greeting {
    message: String,
}

/// Greets `?name=` (default `world`).
#[halo::handler]
async fn handler(request: ApiGatewayProxyRequest, ctx: &halo::Ctx) -> Result<halo::JsonResponse, halo::Error> {
    tracing::debug!(remaining_ms = ctx.remaining().as_millis() as u64, "request received");
    let requested = request.query_string_parameters.first("name");
    if let Some(name) = requested {
        // Carried by every later log line of this invocation, and only this one.
        ctx.append_log_key("requested_name", name);
    }
    let name = requested.unwrap_or("world");
    if name.chars().count() > MAX_NAME_LEN {
        return Err(halo::Error::bad_request(format!("`name` is longer than {MAX_NAME_LEN} characters")));
    }
    tracing::info!(name, path = request.path.as_deref().unwrap_or("/"), "greeting");
    halo::JsonResponse::new(200, &Greeting { message: format!("hello, {name}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str) -> ApiGatewayProxyRequest {
        let event = include_str!("../events/get-hello.json").replace("\"name\": \"Ada\"", query);
        serde_json::from_str(&event).unwrap()
    }

    #[tokio::test]
    async fn greets_by_name() {
        let response = handler(request("\"name\": \"Ada\""), &halo::Ctx::for_test()).await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.body(), r#"{"message":"hello, Ada"}"#);
    }

    #[tokio::test]
    async fn greets_the_world_without_a_name() {
        let response = handler(request("\"other\": \"x\""), &halo::Ctx::for_test()).await.unwrap();
        assert_eq!(response.body(), r#"{"message":"hello, world"}"#);
    }

    #[tokio::test]
    async fn rejects_a_long_name() {
        let long = format!("\"name\": \"{}\"", "a".repeat(65));
        let err = handler(request(&long), &halo::Ctx::for_test()).await.unwrap_err();
        assert_eq!(err.status(), 400);
    }
}
