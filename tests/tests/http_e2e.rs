//! Issue-3 behaviour end to end: the compiled API Gateway fixture against a
//! loopback Runtime API. Correlation ids in and out, sampled and buffered
//! debug lines, error bodies with trace id, and the timeout guard.

use std::path::Path;
use std::time::Duration;

use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::runtime_api::{Outcome, RuntimeApi};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(5);

fn fixture() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_halo-fixture-http"))
}

/// A REST API event for `path`, with extra headers.
fn request(path: &str, headers: &[(&str, &str)]) -> Value {
    let file = halo_test_support::workspace_root().join("examples/hello-api/events/get-hello.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    event["path"] = path.into();
    if let Some((path, query)) = path.split_once('?') {
        event["path"] = path.into();
        let (key, value) = query.split_once('=').unwrap();
        event["queryStringParameters"] = serde_json::json!({ key: value });
        event["multiValueQueryStringParameters"] = serde_json::json!({ key: [value] });
    }
    for (name, value) in headers {
        event["headers"][*name] = (*value).into();
    }
    event
}

fn body(outcome: &Outcome) -> Value {
    serde_json::from_str(outcome.body["body"].as_str().expect("a proxy response body")).unwrap()
}

fn lines_of<'a>(lines: &'a [Value], outcome: &Outcome) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["function_request_id"] == outcome.request_id.as_str()).collect()
}

#[tokio::test]
async fn the_correlation_id_comes_back_and_is_on_every_line() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(fixture(), &api, &[]);
    let sent = api.invoke(&request("/echo", &[("X-Correlation-Id", "order-42:try/1")]), TIMEOUT).await;
    let generated = api.invoke(&request("/echo", &[]), TIMEOUT).await;
    let hostile_id = "evil\"} {\"level\":\"ERROR\", \"x\": 1";
    let hostile = api.invoke(&request("/echo", &[("x-correlation-id", hostile_id)]), TIMEOUT).await;
    // A header value no HTTP stack accepts (a newline) fails decoding as a
    // 400 whose message does not echo it.
    let broken = api.invoke(&request("/echo", &[("x-correlation-id", "evil\nlevel=ERROR")]), TIMEOUT).await;
    assert_eq!(broken.body["statusCode"], 400);
    assert!(!broken.body.to_string().contains("evil"));

    assert_eq!(sent.body["statusCode"], 200);
    assert_eq!(sent.body["headers"]["x-correlation-id"], "order-42:try/1");
    // Without a header, the API Gateway request id of the event is the id.
    assert_eq!(generated.body["headers"]["x-correlation-id"], "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
    let replaced = hostile.body["headers"]["x-correlation-id"].as_str().unwrap();
    assert!(!replaced.contains("evil") && halo::correlation::is_valid_id(replaced));

    let lines = parse_json_lines(&function.stop());
    let sent_lines = lines_of(&lines, &sent);
    assert!(!sent_lines.is_empty());
    assert!(sent_lines.iter().all(|l| l["correlation_id"] == "order-42:try/1"), "{sent_lines:?}");
    let hostile_lines = lines_of(&lines, &hostile);
    let warning = hostile_lines.iter().find(|l| l["level"] == "WARN").expect("a warning about the replaced id");
    assert_eq!(warning["rejected_length"], hostile_id.len());
    assert_eq!(hostile.body["statusCode"], 200);
    let leaked: Vec<&Value> = lines.iter().filter(|l| l.to_string().contains("evil")).collect();
    assert!(leaked.is_empty(), "the hostile value is never logged: {leaked:?}");
}

#[tokio::test]
async fn debug_lines_follow_the_sampling_decision() {
    let api = RuntimeApi::start().await;
    // An API whose callers are trusted to sample the chain (HTTP sources
    // are not by default: see `public_callers_cannot_switch_on_debug`).
    let env = [("HALO_DEBUG_SAMPLE_RATE", "0"), ("HALO_DEBUG_FLAG_SOURCES", "internal,http")];
    let function = FunctionProcess::start(fixture(), &api, &env);
    let forced = api.invoke(&request("/echo", &[("debug-log-enabled", "true")]), TIMEOUT).await;
    let quiet = api.invoke(&request("/echo", &[]), TIMEOUT).await;
    let failing = api.invoke(&request("/fail", &[]), TIMEOUT).await;
    assert_eq!(failing.body["statusCode"], 500);

    let lines = parse_json_lines(&function.stop());
    let debug = |outcome: &Outcome| -> Vec<Value> {
        lines_of(&lines, outcome).into_iter().filter(|l| l["level"] == "DEBUG").cloned().collect()
    };
    let forced_debug = debug(&forced);
    assert_eq!(forced_debug.len(), 1, "the upstream decision forces debug");
    assert!(lines_of(&lines, &forced).iter().all(|l| l["sampled"] == true));
    assert!(debug(&quiet).is_empty(), "rate 0 and no header: no debug line");
    assert!(lines_of(&lines, &quiet).iter().all(|l| l.get("sampled").is_none()));

    let failing_lines = lines_of(&lines, &failing);
    let flushed =
        failing_lines.iter().position(|l| l["level"] == "DEBUG").expect("the held-back debug line is flushed");
    let failed = failing_lines.iter().position(|l| l["message"] == "invocation failed").unwrap();
    assert!(flushed < failed, "flushed before the failure line");
    assert_eq!(failing_lines[flushed]["message"], "fixture debug line");
}

#[tokio::test]
async fn public_callers_cannot_switch_on_debug() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(fixture(), &api, &[("HALO_DEBUG_SAMPLE_RATE", "0")]);
    let asked = api.invoke(&request("/echo", &[("debug-log-enabled", "true")]), TIMEOUT).await;
    assert_eq!(asked.body["statusCode"], 200);
    let lines = parse_json_lines(&function.stop());
    let asked_lines = lines_of(&lines, &asked);
    assert!(!asked_lines.is_empty());
    assert!(asked_lines.iter().all(|l| l["level"] != "DEBUG" && l.get("sampled").is_none()), "{asked_lines:?}");
}

#[tokio::test]
async fn errors_become_json_bodies_with_the_trace_id_and_no_internals() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(fixture(), &api, &[]);
    let headers = [("x-correlation-id", "trace-me")];
    let panicked = api.invoke(&request("/panic", &headers), TIMEOUT).await;
    let failed = api.invoke(&request("/fail", &headers), TIMEOUT).await;
    let rejected = api.invoke(&request("/reject", &headers), TIMEOUT).await;
    let mut malformed = request("/echo", &headers);
    malformed["httpMethod"] = 5.into();
    let malformed = api.invoke(&malformed, TIMEOUT).await;
    let after = api.invoke(&request("/echo", &[]), TIMEOUT).await;

    for (outcome, status, code) in [
        (&panicked, 500, "InternalError"),
        (&failed, 500, "InternalError"),
        (&rejected, 422, "InvalidAmount"),
        (&malformed, 400, "InvalidEvent"),
    ] {
        assert!(outcome.success, "HTTP errors are proxy responses, not Lambda errors");
        assert_eq!(outcome.body["statusCode"], status);
        assert_eq!(outcome.body["headers"]["content-type"], "application/json");
        assert_eq!(outcome.body["headers"]["x-correlation-id"], "trace-me");
        let body = body(outcome);
        assert_eq!(body["error"]["code"], code);
        assert_eq!(body["error"]["trace_id"], "trace-me");
    }
    assert_eq!(body(&panicked)["error"]["message"], "internal error");
    assert_eq!(body(&failed)["error"]["message"], "internal error");
    assert!(body(&malformed)["error"]["message"].as_str().unwrap().contains("httpMethod"));
    for outcome in [&panicked, &failed] {
        let text = outcome.body.to_string();
        assert!(!text.contains("AKIA") && !text.contains("hunter2") && !text.contains("panic"), "{text}");
    }
    assert_eq!(after.body["statusCode"], 200, "the container keeps serving");

    let lines = parse_json_lines(&function.stop());
    let logged = lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n");
    assert!(logged.contains("fixture panic: api_key=AKIA-SECRET"), "the panic message is logged");
    assert!(logged.contains("hunter2"), "the internal cause is logged");
}

#[tokio::test]
async fn a_slow_handler_gets_a_504_before_the_deadline() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(fixture(), &api, &[]);
    let budget = Duration::from_millis(1500);
    let slow = api.invoke(&request("/sleep?ms=10000", &[("x-correlation-id", "slow-1")]), budget).await;

    assert_eq!(slow.body["statusCode"], 504);
    assert_eq!(
        body(&slow)["error"],
        serde_json::json!({ "code": "Timeout", "message": "the request timed out", "trace_id": "slow-1" })
    );
    assert!(
        slow.answered_at_ms < slow.deadline_ms,
        "answered {} ms before the deadline",
        slow.deadline_ms as i64 - slow.answered_at_ms as i64
    );
    // The fixture's margin is 300 ms: the answer comes near deadline - 300.
    assert!(slow.deadline_ms - slow.answered_at_ms <= 600, "not much earlier than the margin");

    let next = api.invoke(&request("/sleep?ms=1", &[]), TIMEOUT).await;
    assert_eq!(next.body["statusCode"], 200, "the container serves the next invocation");

    let lines = parse_json_lines(&function.stop());
    let timed_out = lines.iter().find(|l| l["message"] == "handler timed out").expect("the timeout is logged");
    assert_eq!(timed_out["correlation_id"], "slow-1");
    assert!(timed_out["elapsed_ms"].as_u64().unwrap() >= 1000);
}
