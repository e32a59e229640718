//! The todos in a DynamoDB table (partition key `id`): conditional writes
//! on `version` for optimistic concurrency, Scan pages for the list.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
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

    /// Stores a new todo.
    pub async fn create(&self, title: String) -> Result<Todo, halo::Error> {
        let todo = Todo { id: format!("t-{}", halo::correlation::generate_id()), title, done: false, version: 1 };
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item(&todo)))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(todo)
    }

    /// The todo `id`.
    pub async fn get(&self, id: &str) -> Result<Option<Todo>, halo::Error> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        output.item().map(todo).transpose()
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
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", AttributeValue::S(id.to_owned()))
            .update_expression("SET title = :title, done = :done, version = version + :one")
            .condition_expression("attribute_exists(id) AND version = :expected")
            .expression_attribute_values(":title", AttributeValue::S(title))
            .expression_attribute_values(":done", AttributeValue::Bool(done))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":expected", AttributeValue::N(expected.to_string()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(Ok(todo(output.attributes().ok_or_else(|| halo::Error::internal("no attributes"))?)?)),
            Err(err) => match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => Ok(Err(match failed.item() {
                    Some(current) => WriteError::Stale { current: todo(current)?.version },
                    None => WriteError::NotFound,
                })),
                _ => Err(unavailable(err)),
            },
        }
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
