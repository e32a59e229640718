//! The read API's latency, cold (the view is not in the container's cache:
//! one `GetItem` on the views table) beside warm (served from the cache),
//! measured in one run against moto over loopback, with the DynamoDB
//! requests the API sent (counted at a proxy between it and moto).
//!
//! `cargo bench -p reporting --bench read_api` measures 300 requests per
//! case and prints one JSON line per case; as a test (`cargo test`) it
//! measures 20 and checks the requests only.
//!
//! Each request is an HTTP API event to the compiled `posts-api` through a
//! loopback Lambda Runtime API, so both cases include the same runtime
//! plumbing; the difference between them is the view read.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use halo::projection::{Change, DynamoDbViews};
use halo_test_support::fault_proxy::FaultProxy;
use halo_test_support::function::FunctionProcess;
use halo_test_support::moto::{Moto, sdk_config, sdk_env, unique_name};
use halo_test_support::quantile_us;
use halo_test_support::runtime_api::RuntimeApi;
use serde_json::{Value, json};

const API: &str = env!("CARGO_BIN_EXE_posts-api");
const TIMEOUT: Duration = Duration::from_secs(20);

fn get(path: &str) -> Value {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("events/get-author.json");
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(template).unwrap()).unwrap();
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event
}

async fn measure(api: &RuntimeApi, paths: impl Iterator<Item = String>) -> Vec<Duration> {
    let mut samples = Vec::new();
    for path in paths {
        let started = Instant::now();
        let outcome = api.invoke(&get(&path), TIMEOUT).await;
        samples.push(started.elapsed());
        assert_eq!(outcome.body["statusCode"], 200, "{path}: {:?}", outcome.body);
    }
    samples.sort();
    samples
}

fn main() {
    let requests: usize = if std::env::args().any(|a| a == "--bench") { 300 } else { 20 };
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let moto = Moto::shared();
        let proxy = FaultProxy::start(&moto.endpoint()).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk_config(&moto.endpoint()).await);
        let views = unique_name("bench-views");
        let store = DynamoDbViews::new(client, &views);
        store.create_table().await.unwrap();
        // One summary per author, written as the projector writes them.
        let projector = reporting::reports::projector(Arc::new(store));
        for i in 0..requests {
            let post =
                json!({"id": format!("p-{i}"), "author": format!("author-{i}"), "title": "t", "views": i, "likes": 1});
            projector.apply(&Change::new(format!("p-{i}"), 1, None, Some(post))).await.unwrap();
        }

        let mut env = sdk_env(&proxy.endpoint());
        env.push(("POSTS_TABLE".into(), unique_name("bench-posts")));
        env.push(("HALO_VIEWS_TABLE".into(), views));
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let api = RuntimeApi::start().await;
        let function = FunctionProcess::start(Path::new(API), &api, &env);
        // The container's first request (its init and cold start) is
        // measured in neither case.
        measure(&api, std::iter::once("/authors/author-0".to_owned())).await;

        let before = proxy.count("GetItem");
        let cold = measure(&api, (1..requests).map(|i| format!("/authors/author-{i}"))).await;
        let cold_reads = proxy.count("GetItem") - before;
        let before = proxy.count("GetItem");
        let warm = measure(&api, (1..requests).map(|_| "/authors/author-0".to_owned())).await;
        let warm_reads = proxy.count("GetItem") - before;
        function.stop();

        assert_eq!(cold_reads, requests - 1, "a cold read is one GetItem");
        assert_eq!(warm_reads, 0, "a warm read sends no request");
        for (case, samples, reads) in [("cold", &cold, cold_reads), ("warm", &warm, warm_reads)] {
            let line = json!({
                "case": case,
                "requests": samples.len(),
                "p50_us": quantile_us(samples, 0.5),
                "p99_us": quantile_us(samples, 0.99),
                "dynamodb_requests": reads,
            });
            println!("{line}");
        }
    });
}
