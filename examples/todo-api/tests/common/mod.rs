//! What todo-api's test files share: its tables on moto, and its
//! requests in each event source's shape.

// Each test file uses a part of this module.
#![allow(dead_code)]

use std::path::Path;

use halo::durable::dynamodb::Table;
use halo::durable::{KeyAttribute, TableSpec};
use halo::idempotency::DynamoDbIdempotencyStore;
use halo_test_support::moto::{Moto, sdk_config, sdk_env, unique_name};
use halo_test_support::runtime_api::Outcome;
use serde_json::{Value, json};

/// The todos table and the idempotency table on moto, and the function's
/// environment pointing at them.
pub(crate) async fn tables(moto: &Moto) -> Vec<(String, String)> {
    tables_at(&moto.endpoint()).await
}

/// The todos table and the idempotency table on the DynamoDB at
/// `endpoint` (moto, or dynalite), and the function's environment
/// pointing at them.
pub(crate) async fn tables_at(endpoint: &str) -> Vec<(String, String)> {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(endpoint).await);
    let (todos, idempotency) = (unique_name("todos"), unique_name("todo-idempotency"));
    // The template's todos table: the key `id`, TTL on `expiration`.
    let spec = TableSpec::new(KeyAttribute::string("id")).ttl("expiration");
    Table::new(client.clone(), &todos).create(&spec).await.unwrap();
    DynamoDbIdempotencyStore::new(client, &idempotency).create_table().await.unwrap();
    let mut env = sdk_env(endpoint);
    env.push(("TODO_TABLE".into(), todos));
    env.push(("HALO_IDEMPOTENCY_TABLE".into(), idempotency));
    env
}

fn template(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A request in the shape of `kind` (`v1`, `v2`, `alb`).
pub(crate) fn request(kind: &str, method: &str, path: &str, body: Option<&str>, headers: &[(&str, &str)]) -> Value {
    let (route, query) = path.split_once('?').unwrap_or((path, ""));
    let mut event = template(&format!("template-{kind}.json"));
    let mut header_map = json!({ "host": "api.example.com" });
    for (name, value) in headers {
        header_map[*name] = (*value).into();
    }
    let query_map: serde_json::Map<String, Value> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), Value::from(v)))
        .collect();
    match kind {
        "v2" => {
            event["rawPath"] = route.into();
            event["rawQueryString"] = query.into();
            event["queryStringParameters"] = Value::Object(query_map);
            event["requestContext"]["http"]["method"] = method.into();
            event["requestContext"]["http"]["path"] = route.into();
            event["routeKey"] = "$default".into();
            event["requestContext"]["routeKey"] = "$default".into();
            event["pathParameters"] = json!({});
            event["headers"] = header_map;
        }
        "v1" => {
            event["path"] = route.into();
            event["resource"] = "/{proxy+}".into();
            event["httpMethod"] = method.into();
            event["requestContext"]["httpMethod"] = method.into();
            event["requestContext"]["path"] = route.into();
            event["requestContext"]["resourcePath"] = "/{proxy+}".into();
            event["queryStringParameters"] =
                if query_map.is_empty() { Value::Null } else { Value::Object(query_map.clone()) };
            event["multiValueQueryStringParameters"] = if query_map.is_empty() {
                Value::Null
            } else {
                Value::Object(query_map.iter().map(|(k, v)| (k.clone(), json!([v]))).collect())
            };
            event["pathParameters"] = Value::Null;
            event["multiValueHeaders"] =
                Value::Object(header_map.as_object().unwrap().iter().map(|(k, v)| (k.clone(), json!([v]))).collect());
            event["headers"] = header_map;
        }
        _ => {
            event["path"] = route.into();
            event["httpMethod"] = method.into();
            event["queryStringParameters"] = Value::Object(query_map);
            event["headers"] = header_map;
        }
    }
    event["body"] = body.map_or(Value::Null, Value::from);
    event["isBase64Encoded"] = false.into();
    event
}

pub(crate) fn status(outcome: &Outcome) -> u64 {
    outcome.body["statusCode"].as_u64().unwrap_or_else(|| panic!("not an HTTP response: {:?}", outcome.body))
}

pub(crate) fn body(outcome: &Outcome) -> Value {
    serde_json::from_str(outcome.body["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}
