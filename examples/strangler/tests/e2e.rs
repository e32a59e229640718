//! strangler as compiled binaries, in front of a legacy service written
//! apart from halo (Python, loopback), with SSM, SQS and DynamoDB on moto:
//! a route shadowed (the caller gets the legacy answer, the difference is
//! logged and counted), then moved by a parameter change without a restart
//! (the legacy service gets no request for it), the new service's writes
//! applied to the legacy service once under SQS redelivery and in a second
//! container, and a local run from the README.

use std::path::Path;
use std::time::{Duration, Instant};

use halo::idempotency::DynamoDbIdempotencyStore;
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::legacy_stub::LegacyStub;
use halo_test_support::local_server::LocalServer;
use halo_test_support::moto::{Moto, create_string_key_table, put_string_parameter, unique_name};
use halo_test_support::runtime_api::{Outcome, RuntimeApi};
use halo_test_support::sqs::{Queues, lambda_event};
use serde_json::{Value, json};

const FACADE: &str = env!("CARGO_BIN_EXE_orders-facade");
const SYNC: &str = env!("CARGO_BIN_EXE_orders-sync");
const TIMEOUT: Duration = Duration::from_secs(20);

fn event(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn get(path: &str) -> Value {
    let mut event = event("get-order.json");
    event["rawPath"] = path.into();
    event["requestContext"]["http"]["path"] = path.into();
    event
}

fn status_and_body(outcome: &Outcome) -> (u64, Value) {
    let status = outcome.body["statusCode"].as_u64().unwrap_or_else(|| panic!("not HTTP: {:?}", outcome.body));
    (status, serde_json::from_str(outcome.body["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null))
}

fn as_refs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

async fn set_routes(ssm: &aws_sdk_ssm::Client, path: &str, routes: Value) {
    put_string_parameter(ssm, &format!("{path}/routes"), &routes.to_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_route_is_shadowed_then_moved_by_a_parameter_and_its_writes_reach_the_legacy_service_once() {
    let moto = Moto::shared();
    let legacy = LegacyStub::start();
    let config = moto.sdk_config().await;
    let (ssm, dynamodb) = (aws_sdk_ssm::Client::new(&config), aws_sdk_dynamodb::Client::new(&config));
    let routing_path = format!("/{}", unique_name("strangler"));
    set_routes(&ssm, &routing_path, json!({"GET /orders/{id}": "shadow"})).await;
    let orders_table = unique_name("orders");
    create_string_key_table(&dynamodb, &orders_table, "id").await;
    let idempotency_table = unique_name("strangler-idempotency");
    DynamoDbIdempotencyStore::new(dynamodb.clone(), &idempotency_table).create_table().await.unwrap();
    let queues = Queues::create(moto, "order-writes", 5).await;

    let mut env = moto.env();
    env.extend(
        [
            ("LEGACY_URL", legacy.url()),
            ("ROUTING_PATH", routing_path.clone()),
            ("HALO_PARAMS_MAX_AGE", "1s".to_owned()),
            ("ORDERS_TABLE", orders_table),
            ("SYNC_QUEUE_URL", queues.url.clone()),
            ("HALO_IDEMPOTENCY_TABLE", idempotency_table.clone()),
            ("HALO_METRICS_NAMESPACE", "Strangler".to_owned()),
            ("HALO_METRICS_BUILTIN", "true".to_owned()),
        ]
        .map(|(k, v)| (k.to_owned(), v)),
    );
    let api = RuntimeApi::start().await;
    let facade = FunctionProcess::start(Path::new(FACADE), &api, &as_refs(&env));

    // Shadowed: the caller gets the legacy answer although the new
    // service has no such order.
    let (status, body) = status_and_body(&api.invoke(&get("/orders/o-1"), TIMEOUT).await);
    assert_eq!((status, body), (200, json!({"id": "o-1", "total": 10, "status": "open"})));
    // A route the new service does not have goes to legacy.
    let (status, _) = status_and_body(&api.invoke(&get("/customers/c-42"), TIMEOUT).await);
    assert_eq!((status, legacy.requests_to("/customers/c-42").await), (404, 1));

    // Moved by the parameter, no restart: the next refresh (1 s) applies it.
    set_routes(&ssm, &routing_path, json!({"GET /orders/{id}": "new", "POST /orders": "new"})).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, _) = status_and_body(&api.invoke(&get("/orders/o-1"), TIMEOUT).await);
        if status == 404 {
            break;
        }
        assert!(Instant::now() < deadline, "the route did not move after the refresh");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let legacy_gets = legacy.requests_to("/orders/o-1").await;
    let created = api.invoke(&event("create-order.json"), TIMEOUT).await;
    let (status, order) = status_and_body(&created);
    assert_eq!(
        (status, &order["customer"], &order["total"]),
        (201, &json!("c-42"), &json!(1999)),
        "{:?}",
        created.body
    );
    let order_id = order["id"].as_str().unwrap().to_owned();
    let replay = api.invoke(&event("create-order.json"), TIMEOUT).await;
    assert_eq!(status_and_body(&replay), (201, order.clone()), "the same Idempotency-Key, the same order");
    for _ in 0..3 {
        let (status, read) = status_and_body(&api.invoke(&get(&format!("/orders/{order_id}")), TIMEOUT).await);
        assert_eq!((status, &read), (200, &order), "read from the new service");
    }
    assert_eq!(legacy.requests_to("/orders").await, 0, "no request to legacy for a migrated route");
    assert_eq!(legacy.requests_to("/orders/o-1").await, legacy_gets);
    assert_eq!(legacy.requests_to(&format!("/orders/{order_id}")).await, 0);
    let (stdout, stderr) = facade.stop_with_stdout();
    let lines = parse_json_lines(&stderr);

    // The routing at start and after the change.
    let routings: Vec<&Value> = lines.iter().filter(|l| l["message"] == "strangler routing").collect();
    assert_eq!(routings.len(), 2, "{routings:?}");
    assert!(routings[1]["routing"].as_str().unwrap().contains(r#""POST /orders":"new""#));
    // The shadow's difference: named, never its values, and counted.
    // (Each request shadowed until the refresh moved the route.)
    let differs: Vec<&Value> = lines.iter().filter(|l| l["message"] == "the shadow answer differs").collect();
    assert!(!differs.is_empty());
    for line in &differs {
        assert_eq!((line["legacy_status"].as_u64(), line["new_status"].as_u64()), (Some(200), Some(404)));
        assert_eq!(line["correlation_id"], "strangler-demo-1");
        assert!(line["differences"].as_str().unwrap().contains("status"), "{line}");
        assert!(!line.to_string().contains("open"), "no value of either answer: {line}");
    }
    let emf: Vec<Value> = stdout.iter().map(|line| halo_test_support::emf::validate_line(line).unwrap()).collect();
    let counted = |metric: &str| emf.iter().filter_map(|l| l[metric].as_f64()).sum::<f64>();
    assert_eq!(counted("ShadowDiffered"), differs.len() as f64);

    // The write, delivered twice (SQS redelivers), creates one order in
    // the legacy service; a second container without the first's
    // idempotency records calls again with the same key and creates none.
    let messages = queues.receive().await;
    assert_eq!(messages.len(), 1, "one write published (the replayed create published nothing)");
    let sync_api = RuntimeApi::start().await;
    let sync = FunctionProcess::start(Path::new(SYNC), &sync_api, &as_refs(&env));
    for _ in 0..2 {
        let outcome = sync_api.invoke(&lambda_event(&messages, &queues.arn), TIMEOUT).await;
        assert_eq!(outcome.body["batchItemFailures"], json!([]), "{:?}", outcome.body);
    }
    assert_eq!((legacy.orders().await, legacy.requests_to("/orders").await), (1, 1), "applied once, one call");
    sync.stop();
    let other_table = unique_name("strangler-idempotency");
    DynamoDbIdempotencyStore::new(dynamodb.clone(), &other_table).create_table().await.unwrap();
    let mut other_env = env.clone();
    other_env.retain(|(k, _)| k != "HALO_IDEMPOTENCY_TABLE");
    other_env.push(("HALO_IDEMPOTENCY_TABLE".into(), other_table));
    let other_api = RuntimeApi::start().await;
    let other = FunctionProcess::start(Path::new(SYNC), &other_api, &as_refs(&other_env));
    let outcome = other_api.invoke(&lambda_event(&messages, &queues.arn), TIMEOUT).await;
    assert_eq!(outcome.body["batchItemFailures"], json!([]));
    assert_eq!((legacy.orders().await, legacy.requests_to("/orders").await), (1, 2), "the key deduplicated it");
    let lines = parse_json_lines(&other.stop());
    let synced: Vec<&Value> = lines.iter().filter(|l| l["message"] == "order synced to legacy").collect();
    assert_eq!(synced[0]["correlation_id"], "strangler-demo-2", "the write carries the request's correlation id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_lambda_the_facade_needs_the_legacy_url() {
    let api = RuntimeApi::start().await;
    let mut function = FunctionProcess::start(Path::new(FACADE), &api, &[]);
    let errors = api.wait_for_init_errors(Duration::from_secs(10)).await;
    assert_eq!(errors.len(), 1);
    assert!(errors[0]["errorMessage"].as_str().unwrap().contains("LEGACY_URL"), "{errors:?}");
    assert!(function.wait_exit(Duration::from_secs(10)).await, "the process exits");
}

/// The README's local run: the legacy stub, then `serve` with the routes
/// from a variable, no AWS account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_run_serves_the_new_routes_and_forwards_the_rest() {
    let legacy = LegacyStub::start();
    let server = LocalServer::start_with_env(
        Path::new(FACADE),
        &[("LEGACY_URL", &legacy.url()), ("HALO_PARAM_ROUTES", r#"{"POST /orders":"new"}"#)],
    )
    .await;
    let created = server
        .request("POST", "/orders", Some(r#"{"customer":"c-1","total":500}"#), &[("idempotency-key", "k-1")])
        .await;
    assert_eq!((created.status, &created.body["status"]), (201, &json!("open")));
    let read = server.request("GET", "/orders/o-9", None, &[]).await;
    assert_eq!((read.status, read.body), (200, json!({"id": "o-9", "total": 10, "status": "open"})), "from legacy");
    let bad = server.request("POST", "/orders", Some(r#"{"customer":"<b>x</b>","total":1}"#), &[]).await;
    assert_eq!(bad.status, 422);
    assert!(!bad.body.to_string().contains("<b>"), "no caller text in an error: {}", bad.body);
    assert_eq!(legacy.requests_to("/orders").await, 0);
}
