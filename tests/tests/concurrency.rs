//! The compiled fixture function with `AWS_LAMBDA_MAX_CONCURRENCY` set
//! (Lambda Managed Instances) against a loopback Runtime API that hands out
//! invocations to several pending `/next` polls at once: invocations
//! overlap, keep their own context, survive a neighbour's panic, and a
//! SIGTERM lets the ones in flight finish before the process exits 0.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::runtime_api::{Outcome, RuntimeApi};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(10);

fn fixture() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_halo-fixture"))
}

async fn invoke_all(api: &RuntimeApi, events: Vec<serde_json::Value>) -> Vec<Outcome> {
    join_all(events.iter().map(|event| api.invoke(event, TIMEOUT))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_invocations_keep_their_own_context_and_a_panic_or_timeout_stays_in_its_own() {
    let api = RuntimeApi::start().await;
    let env =
        [("AWS_LAMBDA_MAX_CONCURRENCY", "16"), ("HALO_METRICS_NAMESPACE", "Fixture"), ("HALO_METRICS_BUILTIN", "true")];
    let function = FunctionProcess::start(fixture(), &api, &env);
    // Each echo adds its key and a metric, sleeps (the others run
    // meanwhile), then adds the metric again and logs.
    let events: Vec<_> = (0..48)
        .map(|i| match i % 12 {
            5 => json!({ "action": "panic" }),
            _ => json!({ "action": "echo", "value": format!("v{i}"), "ms": 50 + (i * 7) % 40, "metrics": true }),
        })
        .collect();
    assert!(api.wait_pending_next(16, TIMEOUT).await, "16 polls wait at once");
    let started = Instant::now();
    // One more runs past its deadline: halo's timeout answers it, alone.
    let too_slow = json!({ "action": "sleep", "ms": 3000 });
    let late = api.invoke(&too_slow, Duration::from_millis(800));
    let (outcomes, late) = tokio::join!(invoke_all(&api, events.clone()), late);
    let elapsed = started.elapsed();
    assert!(!late.success);
    assert_eq!(late.body["errorType"], "Timeout", "{:?}", late.body);
    assert!(late.answered_at_ms < late.deadline_ms, "answered before the deadline");

    for (event, outcome) in events.iter().zip(&outcomes) {
        if event["action"] == "panic" {
            assert!(!outcome.success);
            assert_eq!(outcome.body["errorType"], "InternalError");
        } else {
            assert!(outcome.success, "{:?}", outcome.body);
            assert_eq!(outcome.body["echo"], event["value"], "each answer goes to its own request");
            assert_eq!(outcome.body["request_id"], outcome.request_id.as_str());
        }
    }
    assert_eq!(api.max_pending_next(), 16, "never more polls than the concurrency");
    // 44 echoes of 50-90 ms take over 3 s one after the other.
    assert!(elapsed < Duration::from_millis(2500), "the invocations overlapped: {elapsed:?}");
    // The cold one may be the late invocation, sent at the same time, whose
    // answer is the timeout error: the log lines below count all of them.
    let cold: Vec<_> = outcomes.iter().filter(|o| o.body["cold_start"] == true).collect();
    assert!(cold.len() <= 1, "at most one cold start among invocations that started together: {}", cold.len());

    let (stdout, stderr) = function.stop_with_stdout();
    let lines = parse_json_lines(&stderr);
    // Metrics: each invocation wrote exactly its own, whole.
    let emf = halo_test_support::emf::validate_lines(&stdout.join("\n"));
    let of = |request: &str| -> Vec<&serde_json::Value> {
        emf.iter().filter(|l| l["function_request_id"] == request && l.get("ColdStart").is_none()).collect()
    };
    for (event, outcome) in events.iter().zip(&outcomes) {
        let mine = of(&outcome.request_id);
        if event["action"] == "panic" {
            let panics: Vec<_> = mine.iter().filter(|l| l.get("InvocationPanic").is_some()).collect();
            assert_eq!(panics.len(), 1, "{mine:?}");
        } else {
            assert_eq!(mine.len(), 1, "one line for {}: {mine:?}", outcome.request_id);
            assert_eq!(mine[0]["Echoes"], json!([1, 1]), "both of its counts, and only those");
            assert_eq!(mine[0]["echo"], event["value"], "its own metadata");
        }
    }
    assert_eq!(emf.iter().filter(|l| l.get("ColdStart").is_some()).count(), 1, "one ColdStart line");
    assert_eq!(emf.iter().filter(|l| l.get("InvocationTimeout").is_some()).count(), 1, "the late one timed out");
    for outcome in outcomes.iter().filter(|o| o.success) {
        let echo = lines
            .iter()
            .find(|l| l["message"] == "echo" && l["function_request_id"] == outcome.request_id.as_str())
            .unwrap_or_else(|| panic!("no echo line for {}", outcome.request_id));
        assert_eq!(echo["echo_key"], outcome.body["echo"], "the key added before the sleep is this invocation's");
        assert_eq!(echo["seen"], outcome.body["echo"].to_string());
    }
    let cold_lines: std::collections::HashSet<_> =
        lines.iter().filter(|l| l["cold_start"] == true).map(|l| l["function_request_id"].clone()).collect();
    assert_eq!(cold_lines.len(), 1, "one invocation's lines say cold_start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_invocations_in_flight_finish_and_exits_0() {
    for concurrency in ["8", "1"] {
        let api = RuntimeApi::start().await;
        let mut function = FunctionProcess::start(fixture(), &api, &[("AWS_LAMBDA_MAX_CONCURRENCY", concurrency)]);
        let in_flight: usize = concurrency.parse().unwrap();
        let events = vec![json!({ "action": "sleep", "ms": 300 }); in_flight];
        let answers = invoke_all(&api, events);
        let signal = async {
            assert!(api.wait_delivered(in_flight, TIMEOUT).await, "{in_flight} invocations delivered");
            // Delivered is not yet started: wait until each has begun, so
            // the shutdown line's count is not a race with the signal.
            let started = function.wait_for_stderr(r#""message":"sleeping""#, in_flight, TIMEOUT).await;
            assert!(started, "{in_flight} invocations in flight");
            function.terminate();
            Instant::now()
        };
        let (outcomes, signalled) = tokio::join!(answers, signal);
        for outcome in &outcomes {
            assert!(outcome.success, "answered after SIGTERM: {:?}", outcome.body);
            assert_eq!(outcome.body["slept_ms"], 300);
        }
        assert!(function.wait_exit(Duration::from_secs(5)).await, "the process exits by itself");
        assert!(signalled.elapsed() < Duration::from_millis(1500), "within the grace period and a margin");
        assert_eq!(function.exit_code(), Some(0));
        let lines = parse_json_lines(&function.stop());
        let shutdown: Vec<_> = lines.iter().filter(|l| l["message"] == "shutdown").collect();
        assert_eq!(shutdown.len(), 1, "one shutdown line");
        assert_eq!(shutdown[0]["in_flight"], in_flight);
        assert_eq!(shutdown[0]["finished"], in_flight);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_abandons_what_outlasts_the_grace_period() {
    let api = RuntimeApi::start().await;
    let env = [("AWS_LAMBDA_MAX_CONCURRENCY", "4"), ("HALO_SHUTDOWN_GRACE_MS", "100")];
    let mut function = FunctionProcess::start(fixture(), &api, &env);
    let slow = json!({ "action": "sleep", "ms": 5000 });
    let pending = api.invoke(&slow, Duration::from_secs(8));
    let signal = async {
        assert!(api.wait_delivered(1, TIMEOUT).await);
        function.terminate();
        let signalled = Instant::now();
        assert!(function.wait_exit(Duration::from_secs(3)).await, "exits after the grace period");
        signalled.elapsed()
    };
    tokio::select! {
        _ = pending => panic!("the slow invocation cannot have finished"),
        waited = signal => assert!(waited < Duration::from_millis(1500), "{waited:?}"),
    }
    assert_eq!(function.exit_code(), Some(0));
    let lines = parse_json_lines(&function.stop());
    let shutdown = lines.iter().find(|l| l["message"] == "shutdown").expect("the shutdown line");
    assert_eq!((shutdown["in_flight"].as_u64(), shutdown["finished"].as_u64()), (Some(1), Some(0)));
    assert!(lines.iter().any(|l| l["level"] == "WARN" && l["unfinished"] == 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_runs_once_however_many_invocations_start_together() {
    let api = RuntimeApi::start().await;
    let binary = Path::new(env!("CARGO_BIN_EXE_halo-fixture-init"));
    let env = [("FIXTURE_TABLE", "orders"), ("AWS_LAMBDA_MAX_CONCURRENCY", "16")];
    let function = FunctionProcess::start(binary, &api, &env);
    let outcomes = invoke_all(&api, vec![json!("x"); 32]).await;
    for outcome in &outcomes {
        assert_eq!(outcome.body, json!({ "table": "orders", "init_runs": 1 }));
    }
    drop(function);
}

/// A random X-Ray trace header with `parent`, and its trace id as hex.
fn xray(i: usize, parent: &str) -> (String, String) {
    let hex = format!("{:08x}{:024x}", std::process::id(), (i as u128) << 32 | u128::from(fastrand_u32()));
    (format!("Root=1-{}-{};Parent={parent};Sampled=1", &hex[..8], &hex[8..]), hex)
}

fn fastrand_u32() -> u32 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(7, |d| d.subsec_nanos())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_invocations_each_export_their_own_trace() {
    let collector = halo_test_support::otlp::OtlpReceiver::start();
    let api = RuntimeApi::start().await;
    let env = [("AWS_LAMBDA_MAX_CONCURRENCY", "16"), ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint())];
    let function = FunctionProcess::start(fixture(), &api, &env);
    assert!(api.wait_pending_next(16, TIMEOUT).await, "16 polls wait at once");
    let headers: Vec<(String, String)> = (0..64).map(|i| xray(i, "00000000000000aa")).collect();
    let calls = headers.iter().enumerate().map(|(i, (header, _))| {
        let event = json!({ "action": "echo", "value": format!("v{i}"), "ms": 20 + (i * 7) % 30 });
        let api = &api;
        async move { api.invoke_with_headers(&event, TIMEOUT, &[("Lambda-Runtime-Trace-Id", header)]).await }
    });
    let outcomes = join_all(calls).await;
    assert!(outcomes.iter().all(|o| o.success));
    let spans = collector.wait_until(TIMEOUT, |spans| spans.len() >= 128).await;
    function.stop();
    for ((_, trace_id), outcome) in headers.iter().zip(&outcomes) {
        let mine: Vec<_> = spans.iter().filter(|s| &s.trace_id == trace_id).collect();
        assert_eq!(mine.len(), 2, "the invocation and its wait, nothing else: {mine:#?}");
        let root =
            mine.iter().find(|s| s.parent_span_id == "00000000000000aa").expect("the root continues the X-Ray header");
        assert_eq!(root.attribute("faas.invocation_id"), Some(outcome.request_id.as_str()));
        let wait = mine.iter().find(|s| s.name == "echo.wait").expect("the handler's span");
        assert_eq!(wait.parent_span_id, root.span_id, "under its own invocation's root");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_collector_that_is_down_never_fails_or_stalls_an_invocation() {
    let collector = halo_test_support::otlp::OtlpReceiver::start();
    collector.refuse();
    let api = RuntimeApi::start().await;
    let env = [("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()), ("HALO_TRACE_EXPORT_TIMEOUT_MS", "50")];
    let function = FunctionProcess::start(fixture(), &api, &env);
    let started = Instant::now();
    for i in 0..8 {
        let (header, _) = xray(i, "00000000000000bb");
        let outcome = api
            .invoke_with_headers(
                &json!({ "action": "echo", "value": i }),
                TIMEOUT,
                &[("Lambda-Runtime-Trace-Id", &header)],
            )
            .await;
        assert!(outcome.success, "{:?}", outcome.body);
    }
    // Eight invocations one after the other, each export cut at 50 ms, with
    // room for a busy machine.
    assert!(started.elapsed() < Duration::from_millis(8 * 50 + 1500), "{:?}", started.elapsed());
    collector.recover();
    let (header, trace_id) = xray(99, "00000000000000bb");
    api.invoke_with_headers(
        &json!({ "action": "echo", "value": 99 }),
        TIMEOUT,
        &[("Lambda-Runtime-Trace-Id", &header)],
    )
    .await;
    let spans = collector.wait_until(TIMEOUT, |spans| spans.iter().any(|s| s.trace_id == trace_id)).await;
    let lines = parse_json_lines(&function.stop());
    assert!(spans.iter().any(|s| s.trace_id == trace_id), "spans flow again once the collector is back");
    let warnings = lines
        .iter()
        .filter(|l| l["message"].as_str().is_some_and(|m| m.starts_with("spans could not be exported")))
        .count();
    assert_eq!(warnings, 1, "logged once per interval");
}
