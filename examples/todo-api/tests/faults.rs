//! todo-api on DynamoDB (moto) through the fault proxy: writes that are
//! applied but whose answers are lost, which the SDK sends again, are
//! recognised as their own. An idempotent create makes one row and
//! answers 201; an update answers the new version, not `409 StaleVersion`
//! against itself.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_whose_answers_are_lost_are_recognised_as_their_own() {
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
    drop(function);
}
