//! todo-api under cargo-lambda's emulator (`cargo lambda watch
//! --only-lambda-apis`), the way a developer runs it locally, called through
//! the emulator's Function URL (`/lambda-url/todo-api/…`, API Gateway HTTP
//! API v2 events): list, create, a malformed body and an unknown route,
//! each with the status and JSON body it has on API Gateway.

mod common;

use std::path::Path;
use std::time::Instant;

use halo_test_support::cargo_lambda::{Emulator, UrlResponse};
use halo_test_support::function::parse_json_lines;
use halo_test_support::moto::Moto;

const BINARY: &str = env!("CARGO_BIN_EXE_todo-api");
const FUNCTION: &str = "todo-api";

/// One line per response, for failure messages.
fn describe(name: &str, response: &UrlResponse) -> String {
    format!("{name}: {} {:?} {}", response.status, response.headers, response.text())
}

/// What is wrong with an error answer: its status, content type and JSON
/// body `{"error":{"code","message","trace_id"}}` with the request's
/// correlation id.
fn error_problems(response: &UrlResponse, status: u16, code: &str, correlation_id: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if response.status != status {
        problems.push(format!("status {} instead of {status}", response.status));
    }
    if response.header("content-type") != Some("application/json") {
        problems.push(format!("content-type {:?}", response.header("content-type")));
    }
    if response.header("x-correlation-id") != Some(correlation_id) {
        problems.push(format!("x-correlation-id {:?}", response.header("x-correlation-id")));
    }
    let body = response.try_json().unwrap_or_default();
    let error = &body["error"];
    if error["code"] != code || !error["message"].is_string() || error["trace_id"] != correlation_id {
        problems.push(format!("not the JSON error {code} with trace id {correlation_id}"));
    }
    problems
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_url_requests_through_cargo_lambda_watch() {
    let started = Instant::now();
    let moto = Moto::start();
    let env = common::tables(&moto).await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let emulator = Emulator::start().await;
    let function = emulator.start_function(Path::new(BINARY), FUNCTION, &env);
    let ready = started.elapsed();

    let json = [("content-type", "application/json")];
    let list = emulator.function_url(FUNCTION, "GET", "/todos", &[], b"").await;
    let created = emulator.function_url(FUNCTION, "POST", "/todos", &json, br#"{"title":"buy milk"}"#).await;
    let malformed_headers = [("content-type", "application/json"), ("x-correlation-id", "c-bad")];
    let malformed = emulator.function_url(FUNCTION, "POST", "/todos", &malformed_headers, b"{not json").await;
    let nowhere = emulator.function_url(FUNCTION, "GET", "/nowhere", &[("x-correlation-id", "c-route")], b"").await;
    eprintln!("ready in {ready:?}, four requests answered in {:?}", started.elapsed() - ready);

    let mut problems = Vec::new();
    if list.status != 200 || !list.try_json().unwrap_or_default()["items"].is_array() {
        problems.push(describe("GET /todos (want 200 with items)", &list));
    }
    let todo = created.try_json().unwrap_or_default();
    if created.status != 201
        || todo["title"] != "buy milk"
        || created.header("x-correlation-id").is_none_or(str::is_empty)
    {
        problems.push(describe("POST /todos (want 201 with x-correlation-id)", &created));
    }
    let malformed_problems = error_problems(&malformed, 400, "BadRequest", "c-bad");
    if !malformed_problems.is_empty() || malformed.text().contains("not json") {
        problems.push(format!("{malformed_problems:?} {}", describe("POST /todos {not json (want 400)", &malformed)));
    }
    let nowhere_problems = error_problems(&nowhere, 404, "RouteNotFound", "c-route");
    if !nowhere_problems.is_empty() {
        problems.push(format!("{nowhere_problems:?} {}", describe("GET /nowhere (want 404)", &nowhere)));
    }

    let emulator_log = emulator.output();
    let stderr = function.stop();
    assert!(
        problems.is_empty(),
        "{}\n--- todo-api stderr:\n{}\n--- cargo lambda watch:\n{}",
        problems.join("\n"),
        stderr.join("\n"),
        emulator_log.join("\n")
    );
    // Every log line is one JSON object; one access line per request.
    let lines = parse_json_lines(&stderr);
    let mut statuses: Vec<u64> =
        lines.iter().filter(|l| l["message"] == "request").filter_map(|l| l["status"].as_u64()).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 201, 400, 404], "{lines:?}");
    eprintln!("whole test (moto, tables, emulator, function, requests): {:?}", started.elapsed());
}
