//! todo-api on DynamoDB (moto) through the fault proxy: writes that are
//! applied but whose answers are lost, which the SDK sends again, are
//! recognised as their own. An idempotent create makes one row and
//! answers 201; an update answers the new version, not `409 StaleVersion`
//! against itself; a delete answers 204, not 404. A seeded scenario faults
//! a quarter of the requests at random.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{body, request, status};
use halo_test_support::fault_proxy::{Fault, FaultProxy};
use halo_test_support::function::FunctionProcess;
use halo_test_support::moto::Moto;
use halo_test_support::runtime_api::RuntimeApi;

const BINARY: &str = env!("CARGO_BIN_EXE_todo-api");
const TIMEOUT: Duration = Duration::from_secs(20);

/// todo-api on moto's tables, its DynamoDB requests through a fault proxy.
struct Rig {
    moto: &'static Moto,
    proxy: FaultProxy,
    /// The todos table.
    table: String,
    api: RuntimeApi,
    function: FunctionProcess,
}

impl Rig {
    async fn start() -> Rig {
        let moto = Moto::shared();
        let proxy = FaultProxy::start(&moto.endpoint()).await;
        let mut env = common::tables(moto).await;
        let table = env.iter().find(|(k, _)| k == "TODO_TABLE").map(|(_, v)| v.clone()).unwrap();
        for (name, value) in env.iter_mut() {
            if name == "AWS_ENDPOINT_URL" {
                *value = proxy.endpoint();
            }
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let api = RuntimeApi::start().await;
        let function = FunctionProcess::start(Path::new(BINARY), &api, &env);
        Rig { moto, proxy, table, api, function }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_whose_answers_are_lost_are_recognised_as_their_own() {
    let Rig { moto, proxy, table, api, function } = Rig::start().await;
    let headers = [("content-type", "application/json"), ("idempotency-key", "k-lost")];

    // PutItem 1 is the idempotency claim, 2 the todo, 3 the completion.
    proxy.plan("PutItem", Fault::Delayed(Duration::ZERO));
    proxy.plan("PutItem", Fault::AppliedThenDropped);
    let created =
        api.invoke(&request("v2", "POST", "/todos", Some(r#"{"title":"buy milk"}"#), &headers), TIMEOUT).await;
    assert_eq!(status(&created), 201, "{:?}", created.body);
    let todo = body(&created);
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let rows = client.scan().table_name(&table).send().await.unwrap().count;
    assert_eq!(rows, 1, "one row for one create");
    let again = api.invoke(&request("v1", "POST", "/todos", Some(r#"{"title":"buy milk"}"#), &headers), TIMEOUT).await;
    assert_eq!((status(&again), body(&again)), (201, todo.clone()), "the client's retry is replayed");

    let id = todo["id"].as_str().unwrap();
    for (version, fault) in [(1, Fault::AppliedThenServerError), (2, Fault::AppliedThenDropped)] {
        proxy.plan("UpdateItem", fault);
        let update = format!(r#"{{"title":"buy oat milk","done":true,"version":{version}}}"#);
        let json = [("content-type", "application/json")];
        let updated = api.invoke(&request("v2", "PUT", &format!("/todos/{id}"), Some(&update), &json), TIMEOUT).await;
        assert_eq!(status(&updated), 200, "{fault:?}: {:?}", updated.body);
        assert_eq!(body(&updated)["version"], version + 1, "{fault:?}: its own new version");
    }
    assert_eq!(proxy.count("UpdateItem"), 4, "each update was sent twice");

    // The delete's tombstone carries its token: its retry finds its own.
    proxy.plan("UpdateItem", Fault::AppliedThenDropped);
    let json = [("content-type", "application/json")];
    let deleted = api.invoke(&request("v2", "DELETE", &format!("/todos/{id}"), None, &json), TIMEOUT).await;
    assert_eq!(status(&deleted), 204, "its own delete, not a 404: {:?}", deleted.body);
    assert_eq!(proxy.count("UpdateItem"), 6, "the delete was sent twice");
    let gone = api.invoke(&request("v2", "GET", &format!("/todos/{id}"), None, &json), TIMEOUT).await;
    assert_eq!(status(&gone), 404, "a deleted todo is gone");
    let again = api.invoke(&request("v2", "DELETE", &format!("/todos/{id}"), None, &json), TIMEOUT).await;
    assert_eq!(status(&again), 404, "another delete finds nothing to delete");
    drop(function);
}

/// Whether an error answer's body says nothing internal.
fn assert_public_body(outcome: &halo_test_support::runtime_api::Outcome, what: &str) {
    let text = body(outcome).to_string();
    for internal in
        ["injected", "service error", "dispatch", "InternalServerError", "Throughput", "PutItem", "UpdateItem"]
    {
        assert!(!text.contains(internal), "{what}: `{internal}` in the body {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_scenario_under_random_faults_keeps_one_row_per_key_and_answers_its_own_writes() {
    const TODOS: usize = 6;
    const ATTEMPTS: usize = 10;
    for seed in [5_u64, 17] {
        let Rig { moto, proxy, table, api, function } = Rig::start().await;
        proxy.random_faults(seed, 25, &["PutItem", "UpdateItem", "GetItem", "DeleteItem"]);
        let json = [("content-type", "application/json")];

        let mut ids = Vec::new();
        for i in 0..TODOS {
            let key = format!("k-{seed}-{i}");
            let headers = [("content-type", "application/json"), ("idempotency-key", key.as_str())];
            let mut created = None;
            for attempt in 0..ATTEMPTS {
                let what = format!("seed {seed} create {i} attempt {attempt}");
                let answer = api
                    .invoke(&request("v2", "POST", "/todos", Some(r#"{"title":"buy milk"}"#), &headers), TIMEOUT)
                    .await;
                match status(&answer) {
                    201 => {
                        created = Some(body(&answer));
                        break;
                    }
                    503 => assert_public_body(&answer, &what),
                    other => panic!("{what}: {other} {:?}", answer.body),
                }
            }
            let todo = created.unwrap_or_else(|| panic!("seed {seed} create {i}: no 201"));
            ids.push(todo["id"].as_str().unwrap().to_owned());
        }

        for (i, id) in ids.iter().enumerate() {
            let update = r#"{"title":"buy oat milk","done":true,"version":1}"#;
            let mut retried_after_503 = false;
            for attempt in 0..ATTEMPTS {
                let what = format!("seed {seed} update {i} attempt {attempt}");
                let answer =
                    api.invoke(&request("v2", "PUT", &format!("/todos/{id}"), Some(update), &json), TIMEOUT).await;
                match status(&answer) {
                    200 => {
                        assert_eq!(body(&answer)["version"], 2, "{what}: its own new version");
                        break;
                    }
                    // A client's new request after a 503 whose update was
                    // applied meets that update: a stale version, told
                    // truly. Within one request it never happens.
                    409 if retried_after_503 => {
                        assert_eq!(body(&answer)["code"], "StaleVersion", "{what}");
                        break;
                    }
                    503 => {
                        assert_public_body(&answer, &what);
                        retried_after_503 = true;
                    }
                    other => panic!("{what}: {other} {:?} (a write taken for another's)", answer.body),
                }
            }
        }

        for (i, id) in ids.iter().enumerate() {
            let mut retried_after_503 = false;
            for attempt in 0..ATTEMPTS {
                let what = format!("seed {seed} delete {i} attempt {attempt}");
                let answer = api.invoke(&request("v2", "DELETE", &format!("/todos/{id}"), None, &json), TIMEOUT).await;
                match status(&answer) {
                    204 => break,
                    404 if retried_after_503 => break,
                    503 => {
                        assert_public_body(&answer, &what);
                        retried_after_503 = true;
                    }
                    other => panic!("{what}: {other} {:?} (its own delete taken for a missing todo)", answer.body),
                }
            }
        }

        proxy.random_faults(seed, 0, &[]);
        let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
        let rows = client.scan().table_name(&table).send().await.unwrap();
        assert_eq!(rows.count as usize, TODOS, "seed {seed}: one row per Idempotency-Key");
        assert!(rows.items().iter().all(|row| row.contains_key("deleted_by")), "seed {seed}: every todo is deleted");
        let faults = proxy.faults();
        assert!(faults.iter().any(|(kind, _)| kind.starts_with("Applied")), "seed {seed}: {faults:?}");
        println!("todo-api seed {seed}: {} requests, faults {faults:?}", proxy.seen().len());
        drop(function);
    }
}
