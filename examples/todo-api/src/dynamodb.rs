//! The todos in a DynamoDB table (partition key `id`): conditional writes
//! on `version` for optimistic concurrency, Scan pages for the list.
//!
//! Every write says who wrote it, so that a write applied though its answer
//! was lost (a dropped connection, a 500 after the commit), which the SDK
//! sends again, is recognised as its own: a create by its new random id, an
//! update by the `writer` token it stores with the todo. Neither becomes a
//! second row, a `409 StaleVersion` against its own version or a 404. A
//! failed condition returns the stored item (or, on a store that does not,
//! the item is read).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};

use crate::store::{Todo, WriteError};

/// The todos table.
#[derive(Debug, Clone)]
pub struct DynamoTodos {
    client: Client,
    table: String,
}

fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> halo::Error {
    halo::Error::unavailable("the todo store is unavailable; retry later").with_source(err)
}

fn item(todo: &Todo) -> HashMap<String, AttributeValue> {
    HashMap::from([
        ("id".to_owned(), AttributeValue::S(todo.id.clone())),
        ("title".to_owned(), AttributeValue::S(todo.title.clone())),
        ("done".to_owned(), AttributeValue::Bool(todo.done)),
        ("version".to_owned(), AttributeValue::N(todo.version.to_string())),
    ])
}

/// The token an update stores with the todo (`writer`).
fn writer(item: &HashMap<String, AttributeValue>) -> Option<&str> {
    item.get("writer").and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn todo(item: &HashMap<String, AttributeValue>) -> Result<Todo, halo::Error> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    let malformed = || halo::Error::internal("a todo record is malformed");
    Ok(Todo {
        id: text("id").ok_or_else(malformed)?,
        title: text("title").ok_or_else(malformed)?,
        done: item.get("done").and_then(|v| v.as_bool().ok()).copied().unwrap_or(false),
        version: item.get("version").and_then(|v| v.as_n().ok()).and_then(|n| n.parse().ok()).ok_or_else(malformed)?,
    })
}

impl DynamoTodos {
    /// The store on `table`.
    pub fn new(client: Client, table: impl Into<String>) -> DynamoTodos {
        DynamoTodos { client, table: table.into() }
    }

    /// Stores a new todo. Its id is new and random: a todo found under it
    /// after a failed condition is this create's own earlier attempt.
    pub async fn create(&self, title: String) -> Result<Todo, halo::Error> {
        let todo = Todo { id: format!("t-{}", halo::correlation::generate_id()), title, done: false, version: 1 };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(&todo)))
            .condition_expression("attribute_not_exists(id)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(todo),
            Err(err) => match err.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(failed)) => {
                    let stored = match failed.item() {
                        Some(item) => Some(self::todo(item)?),
                        None => self.get(&todo.id).await?,
                    };
                    match stored {
                        Some(stored) if stored == todo => Ok(todo),
                        _ => Err(halo::Error::internal("a new todo id was taken").with_source(err)),
                    }
                }
                _ => Err(unavailable(err)),
            },
        }
    }

    /// The todo `id`.
    pub async fn get(&self, id: &str) -> Result<Option<Todo>, halo::Error> {
        self.item_of(id).await?.as_ref().map(todo).transpose()
    }

    /// A page of up to `limit` todos after the cursor `after`.
    pub async fn list(&self, after: Option<&str>, limit: usize) -> Result<(Vec<Todo>, Option<String>), halo::Error> {
        let mut scan = self.client.scan().table_name(&self.table).limit(limit as i32);
        if let Some(after) = after {
            scan = scan.exclusive_start_key("id", AttributeValue::S(after.to_owned()));
        }
        let output = scan.send().await.map_err(unavailable)?;
        let items = output.items().iter().map(todo).collect::<Result<Vec<_>, _>>()?;
        let next = output.last_evaluated_key().and_then(|k| k.get("id")).and_then(|v| v.as_s().ok()).cloned();
        Ok((items, next))
    }

    /// Replaces the todo if its stored version is `expected`.
    pub async fn update(
        &self,
        id: &str,
        expected: u64,
        title: String,
        done: bool,
    ) -> Result<Result<Todo, WriteError>, halo::Error> {
        let token = halo::correlation::generate_id();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .update_expression("SET title = :title, done = :done, version = version + :one, writer = :writer")
            .condition_expression("attribute_exists(id) AND version = :expected")
            .expression_attribute_values(":title", AttributeValue::S(title))
            .expression_attribute_values(":done", AttributeValue::Bool(done))
            .expression_attribute_values(":writer", AttributeValue::S(token.clone()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Ok(todo(output.attributes().ok_or_else(|| halo::Error::internal("no attributes"))?)?)),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    let current = match failed.item() {
                        Some(item) => Some(item.clone()),
                        None => self.item_of(id).await?,
                    };
                    match current {
                        // This update's own earlier attempt.
                        Some(current) if writer(&current) == Some(token.as_str()) => Ok(Ok(todo(&current)?)),
                        Some(current) => Ok(Err(WriteError::Stale { current: todo(&current)?.version })),
                        None => Ok(Err(WriteError::NotFound)),
                    }
                }
                _ => Err(unavailable(err)),
            },
        }
    }

    /// The stored item of `id`, read consistently.
    async fn item_of(&self, id: &str) -> Result<Option<HashMap<String, AttributeValue>>, halo::Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item)
    }

    /// Deletes the todo `id`.
    pub async fn delete(&self, id: &str) -> Result<Result<(), WriteError>, halo::Error> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .condition_expression("attribute_exists(id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(err) if matches!(err.as_service_error(), Some(DeleteItemError::ConditionalCheckFailedException(_))) => {
                Ok(Err(WriteError::NotFound))
            }
            Err(err) => Err(unavailable(err)),
        }
    }
}
