//! todo-api: a CRUD REST API as one axum `Router`, served on Lambda (API
//! Gateway REST or HTTP API, ALB, Function URL) by `halo::http::run`, with
//! JSON logs per request, correlation ids, error bodies with the trace id,
//! the timeout guard, and `Idempotency-Key` on POST.
//!
//! ```text
//! cargo run -p todo-api -- serve --port 3000      # a local HTTP server
//! cargo run -p todo-api -- invoke examples/todo-api/events/create-v2.json
//! ```

mod dynamodb;
mod store;

use halo::durable::{Fallback, StoreChoice, StoreConfigError, choose_store};
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use halo::http::{Created, IdempotentJson};
use serde::Deserialize;
use serde_json::{Value, json};
use store::{MemoryTodos, Todo, Todos, WriteError};

/// The longest title accepted.
const MAX_TITLE: usize = 200;
/// The largest page.
const MAX_LIMIT: usize = 100;

#[derive(Clone)]
struct App {
    todos: Arc<Todos>,
}

#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
struct NewTodo {
    title: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Update {
    title: String,
    done: bool,
    version: u64,
}

#[derive(Debug, Deserialize)]
struct Page {
    limit: Option<usize>,
    after: Option<String>,
}

fn valid_title(title: &str) -> Result<String, halo::Error> {
    let title = title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(halo::Error::unprocessable(format!("`title` must have 1 to {MAX_TITLE} characters")));
    }
    Ok(title.to_owned())
}

async fn list(State(app): State<App>, Query(page): Query<Page>) -> Result<Json<Value>, halo::Error> {
    let limit = page.limit.unwrap_or(20);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(halo::Error::unprocessable(format!("`limit` must be between 1 and {MAX_LIMIT}")));
    }
    let (items, next) = app.todos.list(page.after.as_deref(), limit).await?;
    Ok(Json(json!({ "items": items, "next": next })))
}

async fn read(State(app): State<App>, Path(id): Path<String>) -> Result<Json<Todo>, halo::Error> {
    app.todos.get(&id).await?.map(Json).ok_or_else(|| halo::Error::not_found("no such todo"))
}

/// Creates a todo. `#[idempotent]` keys it on the `Idempotency-Key`
/// header: a retry with the same key and title gets the todo the first
/// request created (one row), the same key with another title a `422`;
/// without the header it just runs.
#[halo::idempotent(name = "create-todo", payload = request, key = ["/key"], validate = ["/body/title"])]
async fn create(State(app): State<App>, request: IdempotentJson<NewTodo>) -> Result<Created<Todo>, halo::Error> {
    let title = valid_title(&request.body.title)?;
    Ok(Created(app.todos.create(title).await?))
}

async fn update(
    State(app): State<App>,
    Path(id): Path<String>,
    Json(update): Json<Update>,
) -> Result<Json<Todo>, halo::Error> {
    let title = valid_title(&update.title)?;
    match app.todos.update(&id, update.version, title, update.done).await? {
        Ok(todo) => Ok(Json(todo)),
        Err(WriteError::NotFound) => Err(halo::Error::not_found("no such todo")),
        Err(WriteError::Stale { current }) => Err(halo::Error::conflict(format!(
            "the todo changed: you sent version {}, it is at version {current}; read it again",
            update.version
        ))
        .with_code("StaleVersion")),
    }
}

async fn remove(State(app): State<App>, Path(id): Path<String>) -> Result<StatusCode, halo::Error> {
    match app.todos.delete(&id).await? {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(_) => Err(halo::Error::not_found("no such todo")),
    }
}

/// The API: the whole REST surface in one router. `#[halo::http]` serves it
/// on Lambda (and with `invoke` / `serve` locally), building `App` once per
/// container with `init`.
#[halo::http(init = init)]
fn router(app: App) -> Router {
    Router::new()
        .route("/todos", get(list).post(create))
        .route("/todos/{id}", get(read).put(update).delete(remove))
        .with_state(app)
}

/// Once per container: the todo store, by halo's one store rule
/// (`TODO_TABLE` in DynamoDB, else memory in a local run; inside Lambda
/// the table is required). The
/// idempotency store of `create` (`HALO_IDEMPOTENCY_TABLE`, same rule) is
/// resolved by halo after this init, because `#[halo::idempotent]` names no
/// store of its own.
async fn init() -> Result<App, StoreConfigError> {
    let todos = match choose_store("todo", "TODO_TABLE", Fallback::InitError)? {
        StoreChoice::DynamoDb { table } => {
            let client = halo::platform::dynamodb_client().await;
            Todos::DynamoDb(dynamodb::DynamoTodos::new(client, table))
        }
        StoreChoice::Memory => Todos::Memory(MemoryTodos::default()),
    };
    Ok(App { todos: Arc::new(todos) })
}
