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

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use halo::idempotency::{Config, Idempotency, Store as IdempotencyStore};
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
    create_once: Arc<Idempotency>,
    idempotency_store: Arc<dyn IdempotencyStore>,
}

#[derive(Debug, Deserialize)]
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

/// Creates a todo; with an `Idempotency-Key` header, a retry of the same
/// request returns the todo the first one created instead of a second one.
async fn create(
    State(app): State<App>,
    ctx: halo::Ctx,
    headers: HeaderMap,
    Json(new): Json<NewTodo>,
) -> Result<(StatusCode, Json<Todo>), halo::Error> {
    let title = valid_title(&new.title)?;
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let todos = app.todos.clone();
    let todo = match key {
        Some(key) => {
            let payload = json!({ "key": key, "title": title });
            let run = async move { todos.create(title).await };
            app.create_once.run_with_store(app.idempotency_store.as_ref(), &payload, Some(&ctx), run).await?
        }
        None => todos.create(title).await?,
    };
    Ok((StatusCode::CREATED, Json(todo)))
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

/// The API: the whole REST surface in one router.
fn router(app: App) -> Router {
    Router::new()
        .route("/todos", get(list).post(create))
        .route("/todos/{id}", get(read).put(update).delete(remove))
        .with_state(app)
}

/// Once per container: the todo store (`TODO_TABLE` in DynamoDB, else
/// memory in a local run; inside Lambda the table is required) and the
/// idempotency store (`HALO_IDEMPOTENCY_TABLE`, same rule).
async fn init() -> Result<App, String> {
    let todos = match std::env::var("TODO_TABLE") {
        Ok(table) if !table.trim().is_empty() => {
            let client = aws_sdk_dynamodb::Client::new(&halo::aws::sdk_config().await);
            Todos::DynamoDb(dynamodb::DynamoTodos::new(client, table))
        }
        _ if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() => {
            return Err("TODO_TABLE must name the todos table".into());
        }
        _ => Todos::Memory(MemoryTodos::default()),
    };
    let idempotency_store = halo::idempotency::store_from_env().await.map_err(|e| e.to_string())?;
    Ok(App {
        todos: Arc::new(todos),
        create_once: Arc::new(Idempotency::new(Config::new("create-todo").key(["/key"]).validate(["/title"]))),
        idempotency_store,
    })
}

fn main() -> std::process::ExitCode {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    runtime.block_on(halo::http::run_with_init(async { init().await.map(router) }))
}
