//! hello-api as a compiled binary: against a loopback Runtime API (two
//! invocations in one container), and as a local command-line tool.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::runtime_api::RuntimeApi;

const BINARY: &str = env!("CARGO_BIN_EXE_hello-api");
const REQUIRED_KEYS: [&str; 10] = [
    "timestamp",
    "level",
    "message",
    "service",
    "function_name",
    "function_version",
    "function_memory_size",
    "function_request_id",
    "cold_start",
    "xray_trace_id",
];

fn event(file: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events").join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn two_invocations_in_one_container() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(Path::new(BINARY), &api, &[("HALO_SERVICE", "greeter")]);
    let trace_1 = "Root=1-6740a2b1-5d6c3c1e2f0a4b7d8e9f0a1b;Parent=53995c3f42cd8ad8;Sampled=1";
    let trace_2 = "Root=1-6740a2b2-000000000000000000000002;Parent=0000000000000002;Sampled=1";

    let mut named = event("get-hello.json");
    named["queryStringParameters"]["name"] = "Ada".into();
    let first = api.invoke_with_headers(&named, Duration::from_secs(5), &[("lambda-runtime-trace-id", trace_1)]).await;
    let unnamed = event("get-no-name.json");
    let second =
        api.invoke_with_headers(&unnamed, Duration::from_secs(5), &[("lambda-runtime-trace-id", trace_2)]).await;

    assert!(first.success && second.success);
    assert_eq!(first.body["statusCode"], 200);
    assert_eq!(first.body["body"], r#"{"message":"hello, Ada"}"#);
    assert_eq!(second.body["body"], r#"{"message":"hello, world"}"#);
    assert_ne!(first.request_id, second.request_id);

    let lines = parse_json_lines(&function.stop());
    let of = |id: &str| lines.iter().filter(|l| l["function_request_id"] == id).cloned().collect::<Vec<_>>();
    let (lines_1, lines_2) = (of(&first.request_id), of(&second.request_id));
    assert!(!lines_1.is_empty() && !lines_2.is_empty());
    for line in lines_1.iter().chain(&lines_2) {
        for key in REQUIRED_KEYS {
            assert!(line.get(key).is_some(), "missing `{key}` in {line}");
        }
        assert_eq!(line["service"], "greeter");
        assert_eq!(line["function_name"], "halo-test");
        assert_eq!(line["function_version"], "7");
        assert_eq!(line["function_memory_size"], 256);
        let timestamp = line["timestamp"].as_str().unwrap();
        assert!(timestamp.ends_with('Z') && timestamp.len() == 24, "RFC 3339 UTC with millis: {timestamp}");
    }
    assert!(lines_1.iter().all(|l| l["cold_start"] == true && l["xray_trace_id"] == trace_1));
    assert!(lines_2.iter().all(|l| l["cold_start"] == false && l["xray_trace_id"] == trace_2));

    // The greeting line of the first invocation has its event fields; none of
    // them leaks into the second invocation's lines.
    let greeting_1 = lines_1.iter().find(|l| l["message"] == "greeting").unwrap();
    assert_eq!(greeting_1["name"], "Ada");
    let greeting_2 = lines_2.iter().find(|l| l["message"] == "greeting").unwrap();
    assert_eq!(greeting_2["name"], "world");
    let keys_2: HashSet<&String> = lines_2.iter().flat_map(|l| l.as_object().unwrap().keys()).collect();
    for line in &lines_2 {
        assert!(!line.to_string().contains("Ada"), "a value of invocation 1 leaked: {line}");
    }
    assert_eq!(greeting_1["requested_name"], "Ada");
    assert!(!keys_2.iter().any(|k| k.as_str() == "requested_name"), "an appended key leaked: {keys_2:?}");
}

/// Lambda Managed Instances: 64 invocations, up to 16 at once in one
/// process. Every answer and every log line belongs to its own invocation;
/// one cold start; the debug lines a failing invocation held back are
/// written with its error and never with another's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_invocations_sixteen_at_once_stay_isolated() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(Path::new(BINARY), &api, &[("AWS_LAMBDA_MAX_CONCURRENCY", "16")]);
    assert!(api.wait_pending_next(16, Duration::from_secs(10)).await, "16 polls wait at once");
    let failing = |i: usize| i % 8 == 3;
    let name = |i: usize| if failing(i) { format!("{}-{i}", "x".repeat(70)) } else { format!("user-{i}") };
    let events: Vec<serde_json::Value> = (0..64)
        .map(|i| {
            let mut event = event("get-hello.json");
            event["queryStringParameters"]["name"] = name(i).into();
            event["headers"]["x-correlation-id"] = format!("corr-{i}").into();
            event
        })
        .collect();
    let outcomes = futures_util::future::join_all(events.iter().map(|e| api.invoke(e, Duration::from_secs(10)))).await;

    let mut by_request = std::collections::HashMap::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        assert!(outcome.success, "{:?}", outcome.body);
        assert_eq!(outcome.body["headers"]["x-correlation-id"], format!("corr-{i}"));
        if failing(i) {
            assert_eq!(outcome.body["statusCode"], 400);
        } else {
            assert_eq!(outcome.body["body"], format!(r#"{{"message":"hello, user-{i}"}}"#));
        }
        by_request.insert(outcome.request_id.clone(), i);
    }
    assert_eq!(by_request.len(), 64, "distinct request ids");

    let lines = parse_json_lines(&function.stop());
    let mut cold = HashSet::new();
    let mut debug_lines = Vec::new();
    for line in lines.iter().filter(|l| l.get("function_request_id").is_some()) {
        let request_id = line["function_request_id"].as_str().unwrap();
        let i = by_request[request_id];
        assert_eq!(line["correlation_id"], format!("corr-{i}"), "{line}");
        if let Some(requested) = line.get("requested_name") {
            assert_eq!(requested, &name(i), "{line}");
        }
        if line["cold_start"] == true {
            cold.insert(i);
        }
        if line["message"] == "request received" {
            debug_lines.push(i);
        }
    }
    assert_eq!(cold.len(), 1, "exactly one cold start: {cold:?}");
    debug_lines.sort_unstable();
    let expected: Vec<usize> = (0..64).filter(|i| failing(*i)).collect();
    assert_eq!(debug_lines, expected, "held-back debug lines are written once, by the failing invocation");
}

fn local_invoke(args: &[&str], stdin: Option<&str>) -> (i32, String, Vec<String>) {
    use std::io::Write;
    let mut command = Command::new(BINARY);
    command.env_remove("AWS_LAMBDA_RUNTIME_API").current_dir(env!("CARGO_MANIFEST_DIR")).args(args);
    command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input.as_bytes()).unwrap();
    }
    drop(pipe);
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap().lines().map(str::to_owned).collect();
    (output.status.code().unwrap_or(-1), String::from_utf8(output.stdout).unwrap(), stderr)
}

#[test]
fn local_invoke_prints_the_response_and_json_logs() {
    let (code, stdout, stderr) = local_invoke(&["invoke", "events/get-hello.json"], None);
    assert_eq!(code, 0);
    let response: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["statusCode"], 200);
    assert_eq!(response["body"], r#"{"message":"hello, Ada"}"#);
    let lines = parse_json_lines(&stderr);
    let greeting = lines.iter().find(|l| l["message"] == "greeting").unwrap();
    assert_eq!(greeting["cold_start"], true);
    assert_eq!(greeting["function_name"], "hello-api");
}

#[test]
fn local_invoke_reads_stdin() {
    let event = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("events/get-no-name.json")).unwrap();
    let (code, stdout, _) = local_invoke(&["invoke", "-", "--timeout", "1"], Some(&event));
    assert_eq!(code, 0);
    assert!(stdout.contains("hello, world"));
}

#[test]
fn local_invoke_answers_a_handler_error_on_an_http_event_with_an_error_response() {
    // An API Gateway event gets an HTTP error response (the invocation itself
    // succeeds, as in Lambda), so the exit status is 0.
    let (code, stdout, stderr) = local_invoke(&["invoke", "events/get-long-name.json"], None);
    assert_eq!(code, 0);
    let response: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(response["statusCode"], 400);
    let correlation_id = response["headers"]["x-correlation-id"].as_str().unwrap();
    let body: serde_json::Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "BadRequest");
    assert!(body["error"]["message"].as_str().unwrap().contains("longer than 64"));
    assert_eq!(body["error"]["trace_id"], correlation_id);
    assert!(parse_json_lines(&stderr).iter().any(|l| l["message"] == "invocation failed"));
}

#[test]
fn local_invoke_with_concurrency_answers_every_event_in_order() {
    let events = ["events/get-hello.json", "events/get-no-name.json", "events/get-long-name.json"].repeat(4);
    let mut args = vec!["invoke"];
    args.extend(events.iter().copied());
    args.extend(["--concurrency", "8"]);
    let (code, stdout, stderr) = local_invoke(&args, None);
    assert_eq!(code, 0);
    let responses: Vec<serde_json::Value> = stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(responses.len(), 12);
    for (response, event) in responses.iter().zip(&events) {
        let expected = match *event {
            "events/get-hello.json" => r#"{"message":"hello, Ada"}"#,
            "events/get-no-name.json" => r#"{"message":"hello, world"}"#,
            _ => "",
        };
        if expected.is_empty() {
            assert_eq!(response["statusCode"], 400);
        } else {
            assert_eq!(response["body"], expected);
        }
    }
    let lines = parse_json_lines(&stderr);
    let requests: HashSet<_> = lines.iter().filter_map(|l| l.get("function_request_id")).collect();
    assert_eq!(requests.len(), 12, "one context per event");
    let cold: HashSet<_> =
        lines.iter().filter(|l| l["cold_start"] == true).map(|l| l["function_request_id"].clone()).collect();
    assert_eq!(cold.len(), 1);
}

#[test]
fn local_invoke_rejects_a_malformed_event_file_cleanly() {
    let (code, stdout, stderr) = local_invoke(&["invoke", "events/malformed.json"], None);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    let lines = parse_json_lines(&stderr);
    assert!(lines.iter().any(|l| l["message"].as_str().unwrap().contains("not valid JSON")), "{lines:?}");
    assert!(lines.iter().all(|l| l.get("panic_message").is_none()));
}

#[test]
fn local_invoke_reports_a_missing_file_and_bad_usage() {
    let (code, _, stderr) = local_invoke(&["invoke", "events/nope.json"], None);
    assert_eq!(code, 2);
    assert!(stderr.join("\n").contains("nope.json"));
    let (code, _, stderr) = local_invoke(&["invoke"], None);
    assert_eq!(code, 2);
    assert!(stderr.join("\n").contains("usage:"));
}
