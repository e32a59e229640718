//! renditions end to end, against moto over loopback: the compiled API
//! starts an upload's job (a DynamoDB job item, four SQS messages); the
//! messages, received from the real queue in the Lambda SQS event shape,
//! go through the compiled worker over a loopback Runtime API; the worker
//! whose part completes the job marks the asset ready; a corrupt upload's
//! renditions reach the dead-letter queue and the compiled DLQ handler
//! marks it failed; the compiled sweeper ends an upload whose parts never
//! came. And the local run of the README, on in-memory stores.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
use halo::fanout::DynamoDbFanoutStore;
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::runtime_api::RuntimeApi;
use halo_test_support::sqs::{Queues, lambda_event};
use serde_json::{Value, json};

const API: &str = env!("CARGO_BIN_EXE_renditions-api");
const WORKER: &str = env!("CARGO_BIN_EXE_renditions-worker");
const DLQ: &str = env!("CARGO_BIN_EXE_renditions-dlq");
const SWEEPER: &str = env!("CARGO_BIN_EXE_renditions-sweeper");
const TIMEOUT: Duration = Duration::from_secs(20);
const MAX_RECEIVE_COUNT: u32 = 2;

fn event(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A jobs table, an assets table and the parts queues on moto, and the
/// environment the functions read them from.
struct Pipeline {
    queues: Queues,
    env: Vec<(String, String)>,
}

impl Pipeline {
    async fn new(deadline_s: u32) -> Pipeline {
        let moto = Moto::shared();
        let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
        let jobs = unique_name("rendition-jobs");
        DynamoDbFanoutStore::new(client.clone(), &jobs).create_table().await.unwrap();
        let assets = unique_name("assets");
        let key = KeySchemaElement::builder().attribute_name("asset_id").key_type(KeyType::Hash).build().unwrap();
        let attribute =
            AttributeDefinition::builder().attribute_name("asset_id").attribute_type(ScalarAttributeType::S);
        let create =
            client.create_table().table_name(&assets).key_schema(key).attribute_definitions(attribute.build().unwrap());
        create.billing_mode(BillingMode::PayPerRequest).send().await.unwrap();
        let queues = Queues::create(moto, "rendition-parts", MAX_RECEIVE_COUNT).await;
        let mut env = moto.env();
        for (name, value) in [
            ("HALO_FANOUT_TABLE", jobs),
            ("HALO_FANOUT_QUEUE_URL", queues.url.clone()),
            ("ASSETS_TABLE", assets),
            ("RENDITIONS_DEADLINE_S", deadline_s.to_string()),
        ] {
            env.push((name.to_owned(), value));
        }
        Pipeline { queues, env }
    }

    fn env(&self) -> Vec<(&str, &str)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// Runs `binary` over a loopback Runtime API.
    async fn function(&self, binary: &str) -> (RuntimeApi, FunctionProcess) {
        let api = RuntimeApi::start().await;
        let process = FunctionProcess::start(Path::new(binary), &api, &self.env());
        (api, process)
    }

    /// Hands the queue's messages to the worker, batch by batch, as
    /// Lambda's poller does (deleting what succeeded), until it is empty.
    async fn drain(&self, worker: &RuntimeApi) -> usize {
        let mut batches = 0;
        loop {
            let messages = self.queues.receive().await;
            if messages.is_empty() {
                return batches;
            }
            batches += 1;
            let outcome = worker.invoke(&lambda_event(&messages, &self.queues.arn), TIMEOUT).await;
            let failed: Vec<String> = if outcome.success {
                let failures = outcome.body["batchItemFailures"].as_array().unwrap();
                failures.iter().map(|f| f["itemIdentifier"].as_str().unwrap().to_owned()).collect()
            } else {
                messages.iter().map(|m| m.message_id.clone().unwrap()).collect()
            };
            let done: Vec<_> =
                messages.into_iter().filter(|m| !failed.contains(m.message_id.as_ref().unwrap())).collect();
            self.queues.delete(&self.queues.url, &done).await;
        }
    }
}

/// The status route's JSON body.
async fn status(api: &RuntimeApi, event_name: &str) -> Value {
    let outcome = api.invoke(&event(event_name), TIMEOUT).await;
    assert_eq!(outcome.body["statusCode"], 200, "{:?}", outcome.body);
    serde_json::from_str(outcome.body["body"].as_str().unwrap()).unwrap()
}

fn messages(lines: &[Value], message: &str) -> usize {
    lines.iter().filter(|l| l["message"] == message).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_rendered_by_the_workers_and_marked_ready_once() {
    let pipeline = Pipeline::new(900).await;
    let (api, api_process) = pipeline.function(API).await;
    let accepted = api.invoke(&event("upload.json"), TIMEOUT).await;
    assert_eq!(accepted.body["statusCode"], 202, "{:?}", accepted.body);
    let body: Value = serde_json::from_str(accepted.body["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({ "asset_id": "a-42", "job_id": "asset-a-42", "status_url": "/assets/a-42" }));
    let processing = status(&api, "status.json").await;
    assert_eq!(
        (processing["status"].as_str(), processing["job"]["missing"].clone()),
        (Some("processing"), json!([0, 1, 2, 3]))
    );

    let (worker, worker_process) = pipeline.function(WORKER).await;
    assert!(pipeline.drain(&worker).await >= 1);
    let ready = status(&api, "status.json").await;
    assert_eq!(ready["status"], "ready", "{ready}");
    let widths: Vec<u64> =
        ready["asset"]["renditions"].as_array().unwrap().iter().map(|r| r["width"].as_u64().unwrap()).collect();
    assert_eq!(widths, [320, 960, 1920]);
    assert_eq!(ready["asset"]["metadata"]["content_type"], "image/png");

    // The same upload again starts nothing: no message is sent.
    let again = api.invoke(&event("upload.json"), TIMEOUT).await;
    assert_eq!(again.body["statusCode"], 202);
    assert!(pipeline.queues.receive().await.is_empty(), "nothing was sent twice");

    let lines = parse_json_lines(&worker_process.stop());
    assert_eq!(messages(&lines, "part recorded"), 4);
    assert_eq!(messages(&lines, "asset ready"), 1, "the fan-in ran once");
    let rendered: Vec<&Value> = lines.iter().filter(|l| l["message"] == "part rendered").collect();
    assert!(
        rendered.iter().all(|l| l["correlation_id"] == "upload-demo-1"),
        "the parts carry the upload's correlation id"
    );
    let api_lines = parse_json_lines(&api_process.stop());
    assert_eq!(messages(&api_lines, "fan-out job started"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_upload_goes_through_the_dead_letter_queue_and_is_marked_failed() {
    let pipeline = Pipeline::new(900).await;
    let (api, _api_process) = pipeline.function(API).await;
    assert_eq!(api.invoke(&event("upload-corrupt.json"), TIMEOUT).await.body["statusCode"], 202);
    let (worker, worker_process) = pipeline.function(WORKER).await;
    pipeline.drain(&worker).await;
    assert_eq!(status(&api, "status-corrupt.json").await["status"], "processing", "three parts are in the DLQ");

    let (dlq, dlq_process) = pipeline.function(DLQ).await;
    let mut dead = 0;
    loop {
        let messages = pipeline.queues.receive_dead().await;
        if messages.is_empty() {
            break;
        }
        dead += messages.len();
        let outcome = dlq.invoke(&lambda_event(&messages, &pipeline.queues.dlq_arn), TIMEOUT).await;
        assert!(outcome.success && outcome.body["batchItemFailures"] == json!([]), "{:?}", outcome.body);
        pipeline.queues.delete(&pipeline.queues.dlq_url, &messages).await;
    }
    assert_eq!(dead, 3, "the three renditions");
    let failed = status(&api, "status-corrupt.json").await;
    assert_eq!(
        (failed["status"].as_str(), failed["asset"]["failed_parts"].clone()),
        (Some("failed"), json!([0, 1, 2]))
    );
    assert_eq!(failed["asset"]["metadata"]["bytes"], 6_000_000, "the metadata part succeeded");

    let worker_lines = parse_json_lines(&worker_process.stop());
    let unreadable = worker_lines.iter().filter(|l| l["error_code"] == "UnreadableImage").count();
    assert_eq!(unreadable, 3 * MAX_RECEIVE_COUNT as usize, "each rendition delivered maxReceiveCount times");
    let dlq_lines = parse_json_lines(&dlq_process.stop());
    assert_eq!(messages(&dlq_lines, "part recorded as failed"), 3);
    assert_eq!(messages(&dlq_lines, "asset failed"), 1, "the fan-in ran once, in the DLQ handler");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweeper_ends_an_upload_whose_parts_never_came() {
    let pipeline = Pipeline::new(1).await;
    let (api, _api_process) = pipeline.function(API).await;
    assert_eq!(api.invoke(&event("upload.json"), TIMEOUT).await.body["statusCode"], 202);
    // The parts are lost on the way.
    let lost = pipeline.queues.receive().await;
    assert_eq!(lost.len(), 4);
    pipeline.queues.delete(&pipeline.queues.url, &lost).await;

    let (sweeper, sweeper_process) = pipeline.function(SWEEPER).await;
    // Polled: the job is due one second after its start.
    let started = Instant::now();
    let report = loop {
        let outcome = sweeper.invoke(&event("sweep.json"), TIMEOUT).await;
        assert!(outcome.success, "{:?}", outcome.body);
        if !outcome.body["ended"].as_array().unwrap().is_empty() {
            break outcome.body;
        }
        assert!(started.elapsed() < TIMEOUT, "the sweeper never ended the job");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(report["ended"], json!([{ "job_id": "asset-a-42", "outcome": "TIMED_OUT", "missing": [0, 1, 2, 3] }]));
    let failed = status(&api, "status.json").await;
    assert_eq!(
        (failed["status"].as_str(), failed["asset"]["missing_parts"].clone()),
        (Some("failed"), json!([0, 1, 2, 3]))
    );
    let again = sweeper.invoke(&event("sweep.json"), TIMEOUT).await;
    assert_eq!(again.body["ended"], json!([]), "an ended job is swept once");
    let lines = parse_json_lines(&sweeper_process.stop());
    assert_eq!(messages(&lines, "the job passed its deadline with parts missing"), 1);
}

#[tokio::test]
async fn inside_lambda_the_functions_need_their_tables_and_queue() {
    for (binary, env, variable) in [
        (API, vec![], "HALO_FANOUT_TABLE"),
        (API, vec![("HALO_FANOUT_TABLE", "jobs"), ("ASSETS_TABLE", "assets")], "HALO_FANOUT_QUEUE_URL"),
        (WORKER, vec![("HALO_FANOUT_TABLE", "jobs")], "ASSETS_TABLE"),
    ] {
        let api = RuntimeApi::start().await;
        let mut function = FunctionProcess::start(Path::new(binary), &api, &env);
        let errors = api.wait_for_init_errors(Duration::from_secs(10)).await;
        assert_eq!(errors.len(), 1, "{binary}");
        assert!(errors[0]["errorMessage"].as_str().unwrap().contains(variable), "{errors:?}");
        assert!(function.wait_exit(Duration::from_secs(10)).await, "the process exits");
    }
}

/// The README's local run: one process, in-memory stores, start → parts →
/// fan-in, then the status.
#[test]
fn the_local_run_of_the_readme() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(API)
        .args(["invoke", "events/upload.json", "events/status.json"])
        .current_dir(dir)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("HALO_FANOUT_TABLE")
        .env_remove("HALO_FANOUT_QUEUE_URL")
        .env_remove("ASSETS_TABLE")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let answers: Vec<Value> =
        String::from_utf8(output.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!((answers[0]["statusCode"].clone(), answers[1]["statusCode"].clone()), (json!(202), json!(200)));
    let status: Value = serde_json::from_str(answers[1]["body"].as_str().unwrap()).unwrap();
    assert_eq!(status["status"], "ready");
    let stderr = String::from_utf8(output.stderr).unwrap();
    let lines = parse_json_lines(&stderr.lines().map(str::to_owned).collect::<Vec<_>>());
    let flow: Vec<&str> = lines
        .iter()
        .filter_map(|l| l["message"].as_str())
        .filter(|m| ["fan-out job started", "part recorded", "fan-in started", "asset ready"].contains(m))
        .collect();
    assert_eq!(
        flow,
        [
            "fan-out job started",
            "part recorded",
            "part recorded",
            "part recorded",
            "part recorded",
            "fan-in started",
            "asset ready"
        ]
    );
}

/// Hostile request bodies (an unknown key, a wrong type in each field, a
/// hostile nested object, broken JSON, text that is not JSON): no error
/// response carries the caller's text back.
#[test]
fn no_error_response_carries_the_callers_text() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_renditions-api"));
    let errors = halo_test_support::hostile_bodies::assert_no_caller_text_in_errors(dir, binary, "events/upload.json");
    assert!(errors >= 3, "the hostile bodies were refused: {errors} error responses");
}
