//! The todos in a DynamoDB table (partition key `id`, TTL on
//! `expiration`): conditional writes on `version` for optimistic
//! concurrency, Scan pages for the list.
//!
//! Every write says who wrote it, so that a write applied though its answer
//! was lost (a dropped connection, a 500 after the commit), which the SDK
//! sends again, is recognised as its own: a create by its new random id, an
//! update by the `writer` token it stores with the todo, a delete by the
//! token of the tombstone it leaves (`deleted_by`, cleared by TTL a day
//! later). None becomes a second row, a `409 StaleVersion` against its own
//! version or a 404. Conditional writes go through halo's durable kernel
//! ([`Table::conditional`]): a refused write comes back with the item as
//! stored (returned by DynamoDB, or read where a store does not return it).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use halo::durable::dynamodb::{Item, ItemView, Table, Written, to_n, to_s};

use crate::store::{Todo, WriteError};

/// How long a deleted todo's tombstone stays (its `expiration`).
const TOMBSTONE_TTL_SECS: u64 = 24 * 3600;

/// The todos table.
#[derive(Debug, Clone)]
pub(crate) struct DynamoTodos {
    table: Table,
}

fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> halo::Error {
    halo::Error::unavailable("the todo store is unavailable; retry later").with_source(err)
}

fn key(id: &str) -> Item {
    Item::from([("id".to_owned(), to_s(id))])
}

fn item(todo: &Todo) -> Item {
    Item::from([
        ("id".to_owned(), to_s(&todo.id)),
        ("title".to_owned(), to_s(&todo.title)),
        ("done".to_owned(), AttributeValue::Bool(todo.done)),
        ("version".to_owned(), to_n(todo.version)),
    ])
}

/// The stored todo of `item`: `None` for a tombstone (a deleted todo).
fn todo(item: &Item) -> Result<Option<Todo>, halo::Error> {
    let view = ItemView::new(item, "a todo record");
    if view.string("deleted_by").is_some() {
        return Ok(None);
    }
    let malformed = |cause: String| halo::Error::internal(cause);
    Ok(Some(Todo {
        id: view.required_string("id").map_err(malformed)?,
        title: view.required_string("title").map_err(malformed)?,
        done: view.flag("done"),
        version: view.required_number("version").map_err(malformed)?,
    }))
}

impl DynamoTodos {
    /// The store on `table`.
    pub(crate) fn new(client: Client, table: impl Into<String>) -> DynamoTodos {
        DynamoTodos { table: Table::new(client, table) }
    }

    /// Stores a new todo. Its id is new and random: a todo found under it
    /// after a failed condition is this create's own earlier attempt.
    pub(crate) async fn create(&self, title: String) -> Result<Todo, halo::Error> {
        let todo = Todo { id: format!("t-{}", halo::correlation::generate_id()), title, done: false, version: 1 };
        let put = self
            .table
            .client()
            .put_item()
            .table_name(self.table.name())
            .set_item(Some(item(&todo)))
            .condition_expression("attribute_not_exists(id)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        match self.table.conditional("PutItem", || key(&todo.id), put.send().await).await.map_err(unavailable)? {
            Written::Applied(_) => Ok(todo),
            Written::Refused(Some(stored)) if self::todo(&stored)?.as_ref() == Some(&todo) => Ok(todo),
            Written::Refused(_) => Err(halo::Error::internal("a new todo id was taken")),
        }
    }

    /// The todo `id` (a deleted one is gone).
    pub(crate) async fn get(&self, id: &str) -> Result<Option<Todo>, halo::Error> {
        let stored = self.table.get(|| key(id)).await.map_err(unavailable)?;
        Ok(stored.as_ref().map(todo).transpose()?.flatten())
    }

    /// A page of up to `limit` todos after the cursor `after` (a page may
    /// hold fewer where it skipped tombstones).
    pub(crate) async fn list(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Todo>, Option<String>), halo::Error> {
        let mut scan = self.table.client().scan().table_name(self.table.name()).limit(limit as i32);
        if let Some(after) = after {
            scan = scan.exclusive_start_key("id", to_s(after));
        }
        let output = scan.send().await.map_err(unavailable)?;
        let mut items = Vec::with_capacity(output.items().len());
        for stored in output.items() {
            items.extend(todo(stored)?);
        }
        let next = output.last_evaluated_key().and_then(|k| k.get("id")).and_then(|v| v.as_s().ok()).cloned();
        Ok((items, next))
    }

    /// Replaces the todo if its stored version is `expected`.
    pub(crate) async fn update(
        &self,
        id: &str,
        expected: u64,
        title: String,
        done: bool,
    ) -> Result<Result<Todo, WriteError>, halo::Error> {
        let token = halo::correlation::generate_id();
        let update = self
            .update_of(id)
            .update_expression("SET title = :title, done = :done, version = version + :one, writer = :writer")
            .condition_expression("attribute_exists(id) AND attribute_not_exists(deleted_by) AND version = :expected")
            .expression_attribute_values(":title", to_s(title))
            .expression_attribute_values(":done", AttributeValue::Bool(done))
            .expression_attribute_values(":writer", to_s(&token))
            .expression_attribute_values(":one", to_n(1))
            .expression_attribute_values(":expected", to_n(expected))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let written = self.table.conditional("UpdateItem", || key(id), update.send().await).await;
        match written.map_err(unavailable)? {
            Written::Applied(output) => {
                let stored = output.attributes().ok_or_else(|| halo::Error::internal("no attributes"))?;
                let updated = todo(stored)?.ok_or_else(|| halo::Error::internal("an update wrote a tombstone"))?;
                Ok(Ok(updated))
            }
            Written::Refused(Some(current)) => {
                let writer = ItemView::new(&current, "a todo record").string("writer");
                match todo(&current)? {
                    // This update's own earlier attempt.
                    Some(stored) if writer.as_deref() == Some(token.as_str()) => Ok(Ok(stored)),
                    Some(stored) => Ok(Err(WriteError::Stale { current: stored.version })),
                    None => Ok(Err(WriteError::NotFound)),
                }
            }
            Written::Refused(None) => Ok(Err(WriteError::NotFound)),
        }
    }

    /// An `UpdateItem` of the todo `id`.
    fn update_of(&self, id: &str) -> UpdateItemFluentBuilder {
        self.table.client().update_item().table_name(self.table.name()).key("id", to_s(id))
    }

    /// Deletes the todo `id`: a tombstone carrying this delete's token
    /// replaces it (`UpdateItem` removing its fields), and TTL clears it
    /// away a day later.
    pub(crate) async fn delete(&self, id: &str) -> Result<Result<(), WriteError>, halo::Error> {
        let token = halo::correlation::generate_id();
        let expiration = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |now| now.as_secs())
            .saturating_add(TOMBSTONE_TTL_SECS);
        let update = self
            .update_of(id)
            .update_expression("SET deleted_by = :token, expiration = :expiration REMOVE title, done, version, writer")
            .condition_expression("attribute_exists(id) AND attribute_not_exists(deleted_by)")
            .expression_attribute_values(":token", to_s(&token))
            .expression_attribute_values(":expiration", to_n(expiration))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let written = self.table.conditional("UpdateItem", || key(id), update.send().await).await;
        match written.map_err(unavailable)? {
            Written::Applied(_) => Ok(Ok(())),
            // This delete's own earlier attempt left its tombstone.
            Written::Refused(Some(current))
                if ItemView::new(&current, "a todo record").string("deleted_by").as_deref() == Some(token.as_str()) =>
            {
                Ok(Ok(()))
            }
            Written::Refused(_) => Ok(Err(WriteError::NotFound)),
        }
    }
}
