//! idempotent-payments as a compiled binary: two "containers" sharing a
//! DynamoDB table on moto charge once; a container killed after the charge
//! and before its record completes is retried without a second charge;
//! inside Lambda without a table the init fails; a local run uses the
//! in-memory store. The two containers also charge once on dynalite, a
//! second DynamoDB.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use halo::idempotency::store::Status;
use halo::idempotency::{DynamoDbIdempotencyStore, IdempotencyStore, key_for, token_for};
use halo_test_support::dynalite::Dynalite;
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::http_stub::HttpStub;
use halo_test_support::moto::{Moto, sdk_config, sdk_env, unique_name};
use halo_test_support::runtime_api::{RuntimeApi, now_ms};

const BINARY: &str = env!("CARGO_BIN_EXE_idempotent-payments");

fn event(file: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events").join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A fresh idempotency table on moto and the environment a container needs
/// to use it, with `extra` variables.
async fn table_on_moto(extra: &[(&str, &str)]) -> (DynamoDbIdempotencyStore, Vec<(String, String)>) {
    table_at(&Moto::shared().endpoint(), extra).await
}

/// The same on the DynamoDB at `endpoint` (moto, or dynalite).
async fn table_at(endpoint: &str, extra: &[(&str, &str)]) -> (DynamoDbIdempotencyStore, Vec<(String, String)>) {
    let table = unique_name("payments");
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(endpoint).await);
    let store = DynamoDbIdempotencyStore::new(client, &table);
    store.create_table().await.unwrap();
    let mut env: Vec<(String, String)> = sdk_env(endpoint);
    env.push(("HALO_IDEMPOTENCY_TABLE".into(), table));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    (store, env)
}

fn receipt(outcome: &halo_test_support::runtime_api::Outcome) -> serde_json::Value {
    serde_json::from_str(outcome.body["body"].as_str().expect("a text body")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_containers_sharing_the_table_charge_once() {
    two_containers_charge_once(&Moto::shared().endpoint()).await;
}

/// The same on dynalite, a second DynamoDB, which returns no item with a
/// failed condition: the replay reads the record instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_dynalite_two_containers_sharing_the_table_charge_once() {
    two_containers_charge_once(&Dynalite::shared().endpoint()).await;
}

async fn two_containers_charge_once(endpoint: &str) {
    let (_store, env) = table_at(endpoint, &[]).await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let (api_a, api_b) = (RuntimeApi::start().await, RuntimeApi::start().await);
    let container_a = FunctionProcess::start(Path::new(BINARY), &api_a, &env);
    let container_b = FunctionProcess::start(Path::new(BINARY), &api_b, &env);

    let first = api_a.invoke(&event("charge.json"), Duration::from_secs(10)).await;
    let retry = api_b.invoke(&event("charge-retry.json"), Duration::from_secs(10)).await;
    let tampered = api_b.invoke(&event("charge-tampered.json"), Duration::from_secs(10)).await;
    assert!(first.success && retry.success, "{:?} {:?}", first.body, retry.body);
    assert_eq!(first.body["statusCode"], 201);
    assert_eq!(receipt(&first), receipt(&retry), "container B replayed container A's charge");
    assert_eq!(receipt(&first)["charge_id"], format!("ch_{}", charge_token()));
    // An API Gateway caller gets an HTTP error response: 422 with the code.
    assert_eq!(tampered.body["statusCode"], 422, "{:?}", tampered.body);
    let error: serde_json::Value = serde_json::from_str(tampered.body["body"].as_str().unwrap()).unwrap();
    assert_eq!(error["error"]["code"], "PayloadMismatch");
    assert!(!tampered.body.to_string().contains("1299"), "no stored data in the error");

    let lines_a = parse_json_lines(&container_a.stop());
    let lines_b = parse_json_lines(&container_b.stop());
    let charged = |lines: &[serde_json::Value]| lines.iter().filter(|l| l["message"] == "card charged").count();
    assert_eq!(charged(&lines_a) + charged(&lines_b), 1, "the card was charged once");
    let outcome = |lines: &[serde_json::Value], id: &str| {
        lines
            .iter()
            .find(|l| l["function_request_id"] == id && l["message"] == "idempotency")
            .map(|l| l["idempotency_outcome"].clone())
    };
    assert_eq!(outcome(&lines_a, &first.request_id), Some("claimed".into()));
    assert_eq!(outcome(&lines_b, &retry.request_id), Some("replayed".into()));
    assert_eq!(outcome(&lines_b, &tampered.request_id), Some("mismatch".into()));
}

/// Lambda Managed Instances: 32 duplicates of one charge at once inside one
/// process (`AWS_LAMBDA_MAX_CONCURRENCY=32`), 20 rounds with a new
/// `payment_id` each: the card is charged once per round and every
/// duplicate gets that charge's receipt (they wait for it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_concurrent_duplicates_in_one_process_charge_once_per_round() {
    let (_store, env) = table_on_moto(&[("AWS_LAMBDA_MAX_CONCURRENCY", "32")]).await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let api = RuntimeApi::start().await;
    let container = FunctionProcess::start(Path::new(BINARY), &api, &env);
    assert!(api.wait_pending_next(32, Duration::from_secs(30)).await, "32 polls wait at once");

    for round in 0..20 {
        let mut charge = event("charge.json");
        let body = charge["body"].as_str().unwrap().replace("pay_7Hq2", &format!("pay_round_{round}"));
        charge["body"] = body.into();
        let outcomes =
            futures_util::future::join_all((0..32).map(|_| api.invoke(&charge, Duration::from_secs(10)))).await;
        let receipts: BTreeSet<String> = outcomes
            .iter()
            .map(|o| {
                assert_eq!(o.body["statusCode"], 201, "round {round}: {:?}", o.body);
                receipt(o).to_string()
            })
            .collect();
        assert_eq!(receipts.len(), 1, "round {round}: one receipt for all 32");
    }

    let lines = parse_json_lines(&container.stop());
    for round in 0..20 {
        let payment = format!("pay_round_{round}");
        let charged = lines.iter().filter(|l| l["message"] == "card charged" && l["payment_id"] == payment).count();
        assert_eq!(charged, 1, "{payment} was charged once");
    }
}

/// The idempotency token of the sample events' payment (`pay_7Hq2`).
fn charge_token() -> String {
    token_for(&key_for("charge", &serde_json::json!("pay_7Hq2")))
}

/// Waits (polling, up to `timeout`) for `condition`; whether it held.
async fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let started = Instant::now();
    while !condition() {
        if started.elapsed() > timeout {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// The gap the lease leaves, closed downstream: container A charges the
/// card at the provider and is killed (by PID) before its record completes.
/// After A's deadline, the retry runs the function again in container B,
/// which sends the provider the same idempotency token: the provider
/// charges once and B's receipt carries the charge id derived from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_container_killed_after_the_charge_is_retried_without_a_second_charge() {
    // A payment provider that charges once per Idempotency-Key. The first
    // request is charged but never answered: container A dies waiting.
    let charged: Arc<Mutex<BTreeSet<String>>> = Arc::default();
    let provider = {
        let charged = charged.clone();
        HttpStub::start(move |n, request| {
            let Some(key) = request.header("idempotency-key") else {
                return Some((400, r#"{"error":"an Idempotency-Key is required"}"#.to_owned()));
            };
            let first_time = charged.lock().unwrap().insert(key);
            if n == 1 {
                return None;
            }
            Some((if first_time { 201 } else { 200 }, r#"{"status":"succeeded"}"#.to_owned()))
        })
        .await
    };

    let (store, env) = table_on_moto(&[("PAYMENT_PROVIDER_URL", provider.base_url())]).await;
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();

    let api_a = Arc::new(RuntimeApi::start().await);
    let container_a = FunctionProcess::start(Path::new(BINARY), &api_a, &env);
    assert!(wait_until(Duration::from_secs(30), || api_a.next_calls() > 0).await, "container A is ready");
    let first = {
        let api_a = api_a.clone();
        tokio::spawn(async move { api_a.invoke(&event("charge.json"), Duration::from_secs(5)).await })
    };
    assert!(wait_until(Duration::from_secs(20), || provider.count() == 1).await, "A called the provider");
    // SIGKILL (by PID), right after the side effect: no clean-up runs.
    let lines_a = parse_json_lines(&container_a.stop());
    first.abort();

    let key = key_for("charge", &serde_json::json!("pay_7Hq2"));
    let left = store.get(&key).await.unwrap().expect("A's claim is left behind");
    assert_eq!(left.status, Status::InProgress, "A died before its record completed");
    assert!(!lines_a.iter().any(|l| l["message"] == "card charged"), "A never got the provider's answer");

    let api_b = RuntimeApi::start().await;
    let container_b = FunctionProcess::start(Path::new(BINARY), &api_b, &env);
    let deadline = left.in_progress_expiration.expect("a deadline");
    assert!(wait_until(Duration::from_secs(20), || now_ms() > deadline).await);
    let retry = api_b.invoke(&event("charge-retry.json"), Duration::from_secs(10)).await;

    assert!(retry.success, "{:?}", retry.body);
    assert_eq!(retry.body["statusCode"], 201, "{:?}", retry.body);
    let tokens: Vec<_> = provider.requests().iter().map(|r| r.header("idempotency-key")).collect();
    let token = charge_token();
    assert_eq!(tokens, [Some(token.clone()), Some(token.clone())], "the provider saw the same token twice");
    assert_eq!(charged.lock().unwrap().len(), 1, "and charged once");
    assert_eq!(receipt(&retry)["charge_id"], format!("ch_{token}"), "the charge id of the one charge");
    let lines_b = parse_json_lines(&container_b.stop());
    let outcome = lines_b.iter().find(|l| l["message"] == "idempotency").map(|l| l["idempotency_outcome"].clone());
    assert_eq!(outcome, Some("expired".into()), "B took over A's expired claim");
    assert_eq!(store.get(&key).await.unwrap().unwrap().status, Status::Completed);
}

#[tokio::test]
async fn inside_lambda_without_a_table_the_init_fails() {
    let api = RuntimeApi::start().await;
    let mut function = FunctionProcess::start(Path::new(BINARY), &api, &[]);
    let errors = api.wait_for_init_errors(Duration::from_secs(20)).await;
    assert_eq!(errors.len(), 1, "one init error");
    let message = errors[0]["errorMessage"].as_str().unwrap();
    assert!(message.contains("HALO_IDEMPOTENCY_TABLE"), "{message}");
    assert_eq!(api.next_calls(), 0, "no invocation was served");
    assert!(function.wait_exit(Duration::from_secs(20)).await, "the process exits");
}

/// Runs the binary locally (no Runtime API, no table) on `events`: its exit
/// code, one JSON response per stdout line, and its JSON log lines.
fn local_invoke(events: &[&str]) -> (Option<i32>, Vec<serde_json::Value>, Vec<serde_json::Value>) {
    let output = Command::new(BINARY)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("HALO_IDEMPOTENCY_TABLE")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("invoke")
        .args(events)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).lines().map(str::to_owned).collect::<Vec<_>>();
    let responses = String::from_utf8_lossy(&output.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (output.status.code(), responses, parse_json_lines(&stderr))
}

#[test]
fn local_invoke_uses_the_in_memory_store() {
    let (status, responses, lines) = local_invoke(&["events/charge.json"]);
    assert_eq!(status, Some(0), "{lines:?}");
    assert_eq!(responses.len(), 1);
    assert_eq!(responses[0]["statusCode"], 201);
    let receipt: serde_json::Value = serde_json::from_str(responses[0]["body"].as_str().unwrap()).unwrap();
    assert_eq!((receipt["payment_id"].as_str(), receipt["amount"].as_u64()), (Some("pay_7Hq2"), Some(1299)));
    assert!(lines.iter().any(|l| l["idempotency_outcome"] == "claimed"), "{lines:?}");
    assert!(
        lines.iter().any(|l| l["message"].as_str().is_some_and(|m| m.contains("the idempotency store is in memory")))
    );
}

#[test]
fn local_invoke_of_a_duplicate_event_replays_it() {
    // Three events in one process: one warm container, one in-memory store.
    let (status, responses, lines) =
        local_invoke(&["events/charge.json", "events/charge-retry.json", "events/charge-tampered.json"]);
    assert_eq!(status, Some(0), "HTTP errors are responses: {lines:?}");
    assert_eq!(responses.len(), 3, "one response line per event");
    assert_eq!(responses[0]["body"], responses[1]["body"], "the retry got the stored receipt");
    assert_eq!(responses[2]["statusCode"], 422);
    let outcomes: Vec<_> = lines.iter().filter_map(|l| l["idempotency_outcome"].as_str()).collect();
    assert_eq!(outcomes, ["claimed", "replayed", "mismatch"]);
    assert_eq!(lines.iter().filter(|l| l["message"] == "card charged").count(), 1);
    let cold: Vec<_> =
        lines.iter().filter(|l| l["message"] == "idempotency").map(|l| l["cold_start"].clone()).collect();
    assert_eq!(cold, [true, false, false], "only the first call is a cold start");
}

/// Hostile request bodies (an unknown key, a wrong type in each field, a
/// hostile nested object, broken JSON, text that is not JSON): no error
/// response carries the caller's text back.
#[test]
fn no_error_response_carries_the_callers_text() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_idempotent-payments"));
    let errors = halo_test_support::hostile_bodies::assert_no_caller_text_in_errors(dir, binary, "events/charge.json");
    assert!(errors >= 3, "the hostile bodies were refused: {errors} error responses");
}
