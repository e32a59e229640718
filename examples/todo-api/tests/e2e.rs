//! todo-api as a compiled binary: on a loopback Lambda Runtime API with API
//! Gateway REST (v1), HTTP API (v2) and ALB events, and in `serve` mode as a
//! real HTTP server on loopback. Every route's success path; 400, 404, 409,
//! 415 and 422 with the JSON error body whose trace id is the request's
//! correlation id; an idempotent POST replay; the access log line. The
//! routes run on moto and on dynalite, a second DynamoDB.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{body, request, status};
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::local_server::LocalServer;
use halo_test_support::moto::Moto;
use halo_test_support::runtime_api::{Outcome, RuntimeApi};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_todo-api");
const TIMEOUT: Duration = Duration::from_secs(20);

fn header(outcome: &Outcome, name: &str) -> Option<String> {
    let headers = &outcome.body["headers"];
    let multi = &outcome.body["multiValueHeaders"];
    headers[name].as_str().or_else(|| multi[name][0].as_str()).map(str::to_owned)
}

/// The error body's code, checked to carry the request's correlation id.
fn error_code(outcome: &Outcome, correlation_id: &str) -> String {
    let error = body(outcome)["error"].clone();
    assert_eq!(error["trace_id"], correlation_id, "{:?}", outcome.body);
    assert_eq!(header(outcome, "x-correlation-id").as_deref(), Some(correlation_id));
    assert_eq!(header(outcome, "content-type").as_deref(), Some("application/json"));
    error["code"].as_str().unwrap().to_owned()
}

/// The router on Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY=8`):
/// 16 creates at once, each with its own correlation id and idempotency
/// key, and a duplicate of each: 16 todos, every answer with its own id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_creates_through_the_router_stay_apart() {
    let mut env = common::tables(Moto::shared()).await;
    env.push(("AWS_LAMBDA_MAX_CONCURRENCY".into(), "8".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(Path::new(BINARY), &api, &env);
    assert!(api.wait_pending_next(8, Duration::from_secs(30)).await, "8 polls wait at once");
    let creates: Vec<Value> = (0..32)
        .map(|i| {
            let n = i % 16;
            let (corr, key, title) = (format!("c-{n}"), format!("k-{n}"), format!(r#"{{"title":"task {n}"}}"#));
            let headers =
                [("content-type", "application/json"), ("x-correlation-id", &corr), ("idempotency-key", &key)];
            request("v2", "POST", "/todos", Some(&title), &headers)
        })
        .collect();
    let outcomes = futures_util::future::join_all(creates.iter().map(|e| api.invoke(e, TIMEOUT))).await;
    for (i, outcome) in outcomes.iter().enumerate() {
        let n = i % 16;
        assert!([201, 409].contains(&status(outcome)), "{:?}", outcome.body);
        assert_eq!(header(outcome, "x-correlation-id"), Some(format!("c-{n}")));
        if status(outcome) == 201 {
            assert_eq!(body(outcome)["title"], format!("task {n}"));
        }
    }
    let everything = api.invoke(&request("v2", "GET", "/todos?limit=100", None, &[]), TIMEOUT).await;
    assert_eq!(body(&everything)["items"].as_array().unwrap().len(), 16, "one todo per idempotency key");
    let lines = parse_json_lines(&function.stop());
    for outcome in &outcomes {
        let n: usize = header(outcome, "x-correlation-id").unwrap()[2..].parse().unwrap();
        for line in lines.iter().filter(|l| l["function_request_id"] == outcome.request_id.as_str()) {
            assert_eq!(line["correlation_id"], format!("c-{n}"), "{line}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_over_api_gateway_v1_v2_and_alb_with_json_errors() {
    crud(&Moto::shared().endpoint()).await;
}

/// The same requests on the second DynamoDB, dynalite, which (like
/// DynamoDB Local) returns no item with a failed condition: a stale PUT is
/// still a 409 with the version read back, never a 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crud_on_dynalite_the_second_dynamodb() {
    crud(&halo_test_support::dynalite::Dynalite::shared().endpoint()).await;
}

/// Every route over each event shape, with the tables on the DynamoDB at
/// `endpoint`.
async fn crud(endpoint: &str) {
    let env = common::tables_at(endpoint).await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(Path::new(BINARY), &api, &env);
    let json_headers = |corr: &'static str| vec![("content-type", "application/json"), ("x-correlation-id", corr)];
    let invoke = |event: Value| {
        let api = &api;
        async move { api.invoke(&event, TIMEOUT).await }
    };

    // POST with an Idempotency-Key, twice: one todo.
    let mut headers = json_headers("c-create");
    headers.push(("idempotency-key", "k-1"));
    let created = invoke(request("v2", "POST", "/todos", Some(r#"{"title":"buy milk"}"#), &headers)).await;
    assert_eq!(status(&created), 201, "{:?}", created.body);
    let todo = body(&created);
    assert_eq!((todo["title"].as_str(), todo["version"].as_u64()), (Some("buy milk"), Some(1)));
    assert_eq!(header(&created, "x-correlation-id").as_deref(), Some("c-create"));
    let replay = invoke(request("v1", "POST", "/todos", Some(r#"{"title":"buy milk"}"#), &headers)).await;
    assert_eq!((status(&replay), body(&replay)), (201, todo.clone()), "the replay returns the same todo");
    // The same key with another body is refused, not served the stored todo.
    let tampered = invoke(request("v2", "POST", "/todos", Some(r#"{"title":"buy beer"}"#), &headers)).await;
    assert_eq!(status(&tampered), 422);
    assert_eq!(error_code(&tampered, "c-create"), "PayloadMismatch");
    let id = todo["id"].as_str().unwrap().to_owned();
    let second =
        invoke(request("v2", "POST", "/todos", Some(r#"{"title":"walk the dog"}"#), &json_headers("c-2"))).await;
    assert_eq!(status(&second), 201);

    // GET: list with pagination, one item, over each event shape.
    let page = invoke(request("v1", "GET", "/todos?limit=1", None, &[])).await;
    assert_eq!(status(&page), 200);
    let first = body(&page)["items"].as_array().unwrap().clone();
    assert_eq!(first.len(), 1);
    let cursor = body(&page)["next"].as_str().unwrap().to_owned();
    assert_eq!(first[0]["id"], cursor.as_str());
    let rest = invoke(request("v2", "GET", &format!("/todos?limit=5&after={cursor}"), None, &[])).await;
    let rest_items = body(&rest)["items"].as_array().unwrap().clone();
    assert_eq!(rest_items.len(), 1);
    assert_ne!(rest_items[0]["id"], first[0]["id"], "the next page continues after the cursor");
    let everything = invoke(request("v2", "GET", "/todos", None, &[])).await;
    assert_eq!(body(&everything)["items"].as_array().unwrap().len(), 2, "the replayed POST created no second row");
    let one = invoke(request("alb", "GET", &format!("/todos/{id}"), None, &[])).await;
    assert_eq!(status(&one), 200);
    assert_eq!(one.body["statusDescription"], "200 OK");
    assert_eq!(body(&one), todo);

    // PUT with optimistic concurrency: version 1 wins once, then is stale.
    let update = r#"{"title":"buy oat milk","done":true,"version":1}"#;
    let updated = invoke(request("v1", "PUT", &format!("/todos/{id}"), Some(update), &json_headers("c-put"))).await;
    assert_eq!((status(&updated), body(&updated)["version"].as_u64()), (200, Some(2)));
    let stale = invoke(request("v2", "PUT", &format!("/todos/{id}"), Some(update), &json_headers("c-stale"))).await;
    assert_eq!(status(&stale), 409);
    assert_eq!(error_code(&stale, "c-stale"), "StaleVersion");

    // Errors: malformed JSON 400, wrong content type 415, invalid field 422,
    // unknown route and missing item 404; each a JSON body with the trace id.
    let malformed = invoke(request("v2", "POST", "/todos", Some("{not json"), &json_headers("c-bad"))).await;
    assert_eq!(status(&malformed), 400);
    assert_eq!(error_code(&malformed, "c-bad"), "BadRequest");
    assert!(!malformed.body.to_string().contains("not json"), "the body is not echoed");
    let text = invoke(request(
        "v1",
        "POST",
        "/todos",
        Some("title"),
        &[("content-type", "text/plain"), ("x-correlation-id", "c-type")],
    ))
    .await;
    assert_eq!(status(&text), 415);
    assert_eq!(error_code(&text, "c-type"), "UnsupportedMediaType");
    let empty = invoke(request("alb", "POST", "/todos", Some(r#"{"title":"  "}"#), &json_headers("c-empty"))).await;
    assert_eq!(status(&empty), 422);
    assert_eq!(error_code(&empty, "c-empty"), "Unprocessable");
    let unknown_field =
        invoke(request("v2", "POST", "/todos", Some(r#"{"title":"x","priority":1}"#), &json_headers("c-field"))).await;
    assert_eq!(status(&unknown_field), 422);
    let nowhere = invoke(request("v2", "GET", "/nowhere", None, &[("x-correlation-id", "c-route")])).await;
    assert_eq!(status(&nowhere), 404);
    assert_eq!(error_code(&nowhere, "c-route"), "RouteNotFound");
    let missing = invoke(request("v1", "GET", "/todos/t-missing", None, &[("x-correlation-id", "c-missing")])).await;
    assert_eq!(status(&missing), 404);
    assert_eq!(error_code(&missing, "c-missing"), "NotFound");

    // DELETE, then it is gone.
    let deleted = invoke(request("alb", "DELETE", &format!("/todos/{id}"), None, &[])).await;
    assert_eq!(status(&deleted), 204);
    let gone = invoke(request("v2", "GET", &format!("/todos/{id}"), None, &[])).await;
    assert_eq!(status(&gone), 404);

    // One access line per request: method, route template, status, latency.
    let lines = parse_json_lines(&function.stop());
    let access: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    let put = access.iter().find(|l| l["method"] == "PUT" && l["status"] == 200).expect("the PUT's line");
    assert_eq!(put["route"], "/todos/{id}");
    assert_eq!(put["correlation_id"], "c-put");
    assert!(put["latency_ms"].as_f64().is_some());
    assert!(access.iter().any(|l| l["route"] == "(unmatched)" && l["status"] == 404));
}

#[tokio::test]
async fn serve_mode_answers_real_http_requests_with_the_same_bodies() {
    let server = LocalServer::start(Path::new(BINARY)).await;
    let server = &server;
    let http = |method, path, body, correlation_id| async move {
        let answer = server.request(method, path, body, &[("x-correlation-id", correlation_id)]).await;
        (answer.status, answer.body, answer.head)
    };
    let (status, todo, head) = http("POST", "/todos", Some(r#"{"title":"buy milk"}"#), "s-1").await;
    assert_eq!((status, todo["title"].as_str()), (201, Some("buy milk")));
    assert!(head.contains("x-correlation-id: s-1"), "{head}");
    let (status, error, _) = http("GET", "/todos/t-999999", None, "s-2").await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["trace_id"], "s-2");
    let (status, error, _) = http("POST", "/todos", Some("{oops"), "s-3").await;
    assert_eq!((status, error["error"]["code"].as_str()), (400, Some("BadRequest")));
}

#[tokio::test]
async fn inside_lambda_the_table_is_required() {
    let api = RuntimeApi::start().await;
    let mut function = FunctionProcess::start(Path::new(BINARY), &api, &[]);
    let errors = api.wait_for_init_errors(Duration::from_secs(10)).await;
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["errorMessage"].as_str().unwrap().contains("TODO_TABLE"), "{errors:?}");
    assert!(function.wait_exit(Duration::from_secs(10)).await, "the process exits");
}

/// Hostile request bodies (an unknown key, a wrong type in each field, a
/// hostile nested object, broken JSON, text that is not JSON): no error
/// response carries the caller's text back.
#[test]
fn no_error_response_carries_the_callers_text() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_todo-api"));
    let errors =
        halo_test_support::hostile_bodies::assert_no_caller_text_in_errors(dir, binary, "events/create-v2.json");
    assert!(errors >= 3, "the hostile bodies were refused: {errors} error responses");
}
