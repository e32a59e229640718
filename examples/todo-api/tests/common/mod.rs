//! What todo-api's test files share: its tables on moto.

use halo::idempotency::DynamoDbIdempotencyStore;
use halo_test_support::moto::{Moto, create_string_key_table, unique_name};

/// The todos table and the idempotency table on moto, and the function's
/// environment pointing at them.
pub async fn tables(moto: &Moto) -> Vec<(String, String)> {
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    let (todos, idempotency) = (unique_name("todos"), unique_name("todo-idempotency"));
    create_string_key_table(&client, &todos, "id").await;
    DynamoDbIdempotencyStore::new(client, &idempotency).create_table().await.unwrap();
    let mut env = moto.env();
    env.push(("TODO_TABLE".into(), todos));
    env.push(("HALO_IDEMPOTENCY_TABLE".into(), idempotency));
    env
}
