//! The compiled fixture function against a loopback Runtime API: errors,
//! panics and malformed payloads fail one invocation cleanly and the
//! container keeps serving.

use std::path::Path;
use std::time::Duration;

use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::runtime_api::RuntimeApi;
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(5);

fn fixture() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_halo-fixture"))
}

#[tokio::test]
async fn malformed_payload_fails_with_a_clear_error_and_the_next_invocation_works() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(fixture(), &api, &[]);

    let bad = api.invoke(&json!({ "action": "sleep", "ms": "soon" }), TIMEOUT).await;
    assert!(!bad.success);
    assert_eq!(bad.body["errorType"], "InvalidEvent");
    let message = bad.body["errorMessage"].as_str().unwrap();
    assert!(message.contains("ms"), "names the field: {message}");

    let unknown = api.invoke(&json!({ "action": "launch" }), TIMEOUT).await;
    assert_eq!(unknown.body["errorType"], "InvalidEvent");
    let message = unknown.body["errorMessage"].as_str().unwrap();
    assert!(message.contains("`action`") && message.contains("unknown variant"), "names the field: {message}");
    assert!(!message.contains("launch"), "never quotes what was sent: {message}");

    // Not JSON at all: the same clear error, and the container goes on.
    let not_json = api.invoke_raw(r#"{"action": "echo", oops"#, TIMEOUT).await;
    assert_eq!(not_json.body["errorType"], "InvalidEvent", "{:?}", not_json.body);
    assert!(not_json.body["errorMessage"].as_str().unwrap().starts_with("the event is not JSON"));

    let good = api.invoke(&json!({ "action": "echo", "value": 1 }), TIMEOUT).await;
    assert!(good.success, "{:?}", good.body);
    assert_eq!(good.body["echo"], 1);

    let lines = parse_json_lines(&function.stop());
    assert!(lines.iter().all(|l| l.get("panic_message").is_none()));
}

#[tokio::test]
async fn a_panic_fails_the_invocation_and_the_container_keeps_serving() {
    let api = RuntimeApi::start().await;
    let mut function = FunctionProcess::start(fixture(), &api, &[]);

    let panicked = api.invoke(&json!({ "action": "panic" }), TIMEOUT).await;
    assert!(!panicked.success);
    assert_eq!(panicked.body["errorType"], "InternalError");
    assert_eq!(panicked.body["errorMessage"], "internal error");
    assert!(!panicked.body.to_string().contains("s3cr3t"), "the panic message never reaches the caller");

    let after = api.invoke(&json!({ "action": "echo", "value": "still here" }), TIMEOUT).await;
    assert!(after.success);
    assert_eq!(after.body["echo"], "still here");
    assert!(function.is_running());

    let lines = parse_json_lines(&function.stop());
    let panic_line = lines.iter().find(|l| l["message"] == "panic").expect("the panic is logged as JSON");
    assert!(panic_line["panic_message"].as_str().unwrap().contains("fixture panic"));
    assert_eq!(panic_line["function_request_id"], panicked.request_id.as_str());
}

#[tokio::test]
async fn an_internal_error_is_logged_but_its_cause_is_not_returned() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(fixture(), &api, &[]);

    let failed = api.invoke(&json!({ "action": "fail" }), TIMEOUT).await;
    assert!(!failed.success);
    assert_eq!(failed.body, json!({ "errorType": "InternalError", "errorMessage": "internal error" }));

    let rejected = api.invoke(&json!({ "action": "reject" }), TIMEOUT).await;
    assert_eq!(rejected.body, json!({ "errorType": "Unprocessable", "errorMessage": "amount must be positive" }));

    let lines = parse_json_lines(&function.stop());
    let logged = lines
        .iter()
        .find(|l| l["function_request_id"] == failed.request_id.as_str() && l["message"] == "invocation failed")
        .unwrap();
    assert_eq!(logged["level"], "ERROR");
    assert!(logged["error_cause"].as_str().unwrap().contains("hunter2"), "the cause is in the log");
    let warned = lines.iter().find(|l| l["function_request_id"] == rejected.request_id.as_str()).unwrap();
    assert_eq!(warned["level"], "WARN");
}

#[tokio::test]
async fn log_level_comes_from_the_environment() {
    for (env, expected) in [
        (vec![], vec!["ERROR", "WARN", "INFO"]),
        (vec![("AWS_LAMBDA_LOG_LEVEL", "WARN")], vec!["ERROR", "WARN"]),
        (vec![("HALO_LOG_LEVEL", "debug"), ("AWS_LAMBDA_LOG_LEVEL", "ERROR")], vec!["ERROR", "WARN", "INFO", "DEBUG"]),
    ] {
        let api = RuntimeApi::start().await;
        let function = FunctionProcess::start(fixture(), &api, &env);
        let outcome = api.invoke(&json!({ "action": "log" }), TIMEOUT).await;
        assert!(outcome.success);
        let lines = parse_json_lines(&function.stop());
        let levels: Vec<&str> = lines
            .iter()
            .filter(|l| {
                l["function_request_id"] == outcome.request_id.as_str()
                    && l["location"].as_str().unwrap().starts_with("halo_fixture")
            })
            .map(|l| l["level"].as_str().unwrap())
            .collect();
        assert_eq!(levels, expected, "with {env:?}");
    }
}

#[tokio::test]
async fn an_init_error_is_reported_to_the_runtime_api() {
    let api = RuntimeApi::start().await;
    let binary = Path::new(env!("CARGO_BIN_EXE_halo-fixture-init"));
    let function = FunctionProcess::start(binary, &api, &[("FIXTURE_INIT_FAIL", "1")]);
    let errors = api.wait_for_init_errors(Duration::from_secs(5)).await;
    assert_eq!(errors.len(), 1, "exactly one init error report");
    assert_eq!(errors[0]["errorType"], "Runtime.InitError");
    assert!(errors[0]["errorMessage"].as_str().unwrap().contains("FIXTURE_TABLE"));
    let lines = parse_json_lines(&function.stop());
    assert!(lines.iter().any(|l| l["message"] == "init failed"));
    assert_eq!(api.next_calls(), 0, "no invocation is fetched after a failed init");
}

#[tokio::test]
async fn init_runs_once_per_container() {
    let api = RuntimeApi::start().await;
    let binary = Path::new(env!("CARGO_BIN_EXE_halo-fixture-init"));
    let function = FunctionProcess::start(binary, &api, &[("FIXTURE_TABLE", "orders")]);
    for _ in 0..3 {
        let outcome = api.invoke(&json!("x"), TIMEOUT).await;
        assert_eq!(outcome.body, json!({ "table": "orders", "init_runs": 1 }));
    }
    drop(function);
}

/// The local CLI on a direct-invoke (non-HTTP) event: a handler error exits
/// 1 and prints the Lambda error object, without the internal cause.
#[test]
fn local_invoke_of_a_failing_direct_event_exits_1_with_the_error_object() {
    use std::io::Write;
    let mut child = std::process::Command::new(fixture())
        .args(["invoke", "-"])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(br#"{"action": "reject"}"#).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let error: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(error, json!({ "errorType": "Unprocessable", "errorMessage": "amount must be positive" }));
}

/// A missing event file is reported before init runs: the fixture's init
/// would fail (no `FIXTURE_TABLE`), but the usage error comes first.
#[test]
fn local_invoke_of_a_missing_file_fails_before_init() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_halo-fixture-init"))
        .args(["invoke", "missing.json"])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("FIXTURE_TABLE")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot read the event file `missing.json`: no such file"), "{stderr}");
    assert!(!stderr.contains("init failed"), "init did not run: {stderr}");

    // `serve` is for routers: refused the same way, before init.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_halo-fixture-init"))
        .arg("serve")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("FIXTURE_TABLE")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("`serve` runs axum routers") && !stderr.contains("init failed"), "{stderr}");
}

/// A binary with `#[halo::idempotent]` on the default store (on a function
/// the handler calls) and a `#[halo::saga_step]`, inside Lambda without
/// `HALO_IDEMPOTENCY_TABLE` or without `HALO_SAGA_TABLE`: the container's
/// init fails with one message naming the variable (no invocation is
/// answered with a 500), though no code of the user's resolves a store.
#[tokio::test]
async fn a_binary_whose_macros_use_a_store_fails_init_without_its_table() {
    let binary = Path::new(env!("CARGO_BIN_EXE_halo-fixture-idempotent"));
    let cases = [
        (vec![("HALO_SAGA_TABLE", "sagas")], "HALO_IDEMPOTENCY_TABLE", "idempotency"),
        (vec![("HALO_IDEMPOTENCY_TABLE", "records")], "HALO_SAGA_TABLE", "saga"),
    ];
    for (env, missing, feature) in cases {
        let api = RuntimeApi::start().await;
        // No endpoint is reached: the table that is named only builds a client.
        let mut env = env;
        env.push(("AWS_ENDPOINT_URL", "http://127.0.0.1:9"));
        let function = FunctionProcess::start(binary, &api, &env);
        let errors = api.wait_for_init_errors(Duration::from_secs(5)).await;
        assert_eq!(errors.len(), 1, "{missing}: exactly one init error report");
        let message = errors[0]["errorMessage"].as_str().unwrap();
        assert!(message.contains(&format!("set {missing}")), "{message}");
        assert!(message.contains(&format!("no {feature} table is configured")), "{message}");
        assert_eq!(message.matches("is configured").count(), 1, "the cause is said once: {message}");
        assert!(!message.contains("retry later"), "{message}");
        let lines = parse_json_lines(&function.stop());
        assert!(lines.iter().any(|l| l["message"] == "init failed"));
        assert_eq!(api.next_calls(), 0, "{missing}: no invocation is fetched after a failed init");
    }
}

/// The same binary under an emulator with `HALO_STORES=memory` and no
/// table: both stores are in memory, each with a warning, and invocations
/// are answered (a duplicate is replayed); on AWS Lambda
/// (`LAMBDA_TASK_ROOT` set) the same switch fails init.
#[tokio::test]
async fn halo_stores_memory_runs_under_an_emulator_and_is_refused_on_aws() {
    let binary = Path::new(env!("CARGO_BIN_EXE_halo-fixture-idempotent"));
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(binary, &api, &[("HALO_STORES", "memory")]);
    let first = api.invoke(&json!({ "id": "o-1" }), TIMEOUT).await;
    let again = api.invoke(&json!({ "id": "o-1" }), TIMEOUT).await;
    assert!(first.success && again.success, "{:?} {:?}", first.body, again.body);
    assert_eq!(first.body, json!({ "charged": "o-1", "reserved": "reserved o-1" }));
    assert_eq!(again.body, first.body);
    let lines = parse_json_lines(&function.stop());
    let warnings: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["level"] == "WARN" && l["message"].as_str().unwrap_or("").contains("HALO_STORES=memory"))
        .collect();
    let features: Vec<&str> = warnings.iter().filter_map(|l| l["feature"].as_str()).collect();
    assert_eq!(features, ["idempotency", "saga"], "one warning per store: {lines:?}");

    let api = RuntimeApi::start().await;
    let function =
        FunctionProcess::start(binary, &api, &[("HALO_STORES", "memory"), ("LAMBDA_TASK_ROOT", "/var/task")]);
    let errors = api.wait_for_init_errors(Duration::from_secs(5)).await;
    let message = errors[0]["errorMessage"].as_str().unwrap();
    assert!(message.contains("HALO_STORES=memory is refused on AWS Lambda"), "{message}");
    drop(function);
}

/// `HALO_TRACE_STDOUT=true`: a local run prints each invocation's span
/// tree on stdout after its response, so the structure shows without a
/// collector.
#[test]
fn a_local_run_prints_the_span_tree_with_halo_trace_stdout() {
    let dir = std::env::temp_dir().join(format!("halo-trace-stdout-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let event = dir.join("echo.json");
    std::fs::write(&event, r#"{"action":"echo","value":"hi","ms":5}"#).unwrap();
    let output = std::process::Command::new(fixture())
        .arg("invoke")
        .arg(&event)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env("HALO_TRACE_STDOUT", "true")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].contains(r#""echo":"hi""#), "the response first: {stdout}");
    assert!(lines[1].starts_with("trace ") && lines[1].len() == "trace ".len() + 32, "{stdout}");
    assert!(
        lines[2].starts_with("└─ halo-fixture ")
            && lines[2].contains("[server]")
            && lines[2].contains("faas.coldstart=true"),
        "{stdout}"
    );
    assert!(lines[3].starts_with("   └─ echo.wait "), "the handler's span under the invocation: {stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
