//! The todos: the record, and the in-memory store (a local run, one container).

use std::sync::atomic::{AtomicU64, Ordering};

use halo::durable::MemoryMap;
use serde::{Deserialize, Serialize};

/// One todo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Todo {
    /// Its id.
    pub id: String,
    /// What to do.
    pub title: String,
    /// Whether it is done.
    pub done: bool,
    /// Bumped by every update; a PUT must name the version it read.
    pub version: u64,
}

/// Why a write did not happen.
#[derive(Debug, PartialEq)]
pub(crate) enum WriteError {
    /// No todo with this id.
    NotFound,
    /// The todo changed since the version the caller read.
    Stale { current: u64 },
}

/// The todos by id, in this process.
#[derive(Debug, Default)]
pub(crate) struct MemoryTodos {
    todos: MemoryMap<Todo>,
    next: AtomicU64,
}

impl MemoryTodos {
    /// Creates a todo with a new id.
    pub(crate) fn create(&self, title: String) -> Todo {
        let id = format!("t-{:06}", self.next.fetch_add(1, Ordering::SeqCst) + 1);
        let todo = Todo { id: id.clone(), title, done: false, version: 1 };
        self.todos.insert(id, todo.clone());
        todo
    }

    /// The todo `id`.
    pub(crate) fn get(&self, id: &str) -> Option<Todo> {
        self.todos.get(id)
    }

    /// Up to `limit` todos after the id `after`, and the cursor of the next page.
    pub(crate) fn list(&self, after: Option<&str>, limit: usize) -> (Vec<Todo>, Option<String>) {
        let mut todos: Vec<Todo> = self.todos.values();
        todos.sort_by(|a, b| a.id.cmp(&b.id));
        let page: Vec<Todo> =
            todos.into_iter().filter(|t| after.is_none_or(|a| t.id.as_str() > a)).take(limit + 1).collect();
        if page.len() > limit {
            let items = page[..limit].to_vec();
            let cursor = items.last().map(|t| t.id.clone());
            (items, cursor)
        } else {
            (page, None)
        }
    }

    /// Replaces the todo `id` if its version is still `expected`
    /// (optimistic concurrency).
    pub(crate) fn update(&self, id: &str, expected: u64, title: String, done: bool) -> Result<Todo, WriteError> {
        self.todos.with(|todos| {
            let todo = todos.get_mut(id).ok_or(WriteError::NotFound)?;
            if todo.version != expected {
                return Err(WriteError::Stale { current: todo.version });
            }
            todo.title = title;
            todo.done = done;
            todo.version += 1;
            Ok(todo.clone())
        })
    }

    /// Deletes the todo `id`.
    pub(crate) fn delete(&self, id: &str) -> Result<(), WriteError> {
        self.todos.remove(id).map(|_| ()).ok_or(WriteError::NotFound)
    }
}

/// Where the todos live: DynamoDB (`TODO_TABLE`) or this process's memory.
#[derive(Debug)]
pub(crate) enum Todos {
    /// One process's todos: a local run.
    Memory(MemoryTodos),
    /// The shared table.
    DynamoDb(crate::dynamodb::DynamoTodos),
}

impl Todos {
    /// Creates a todo.
    pub(crate) async fn create(&self, title: String) -> Result<Todo, halo::Error> {
        match self {
            Todos::Memory(m) => Ok(m.create(title)),
            Todos::DynamoDb(d) => d.create(title).await,
        }
    }

    /// The todo `id`.
    pub(crate) async fn get(&self, id: &str) -> Result<Option<Todo>, halo::Error> {
        match self {
            Todos::Memory(m) => Ok(m.get(id)),
            Todos::DynamoDb(d) => d.get(id).await,
        }
    }

    /// A page of todos and the next cursor.
    pub(crate) async fn list(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Todo>, Option<String>), halo::Error> {
        match self {
            Todos::Memory(m) => Ok(m.list(after, limit)),
            Todos::DynamoDb(d) => d.list(after, limit).await,
        }
    }

    /// Replaces the todo if its version is still `expected`.
    pub(crate) async fn update(
        &self,
        id: &str,
        expected: u64,
        title: String,
        done: bool,
    ) -> Result<Result<Todo, WriteError>, halo::Error> {
        match self {
            Todos::Memory(m) => Ok(m.update(id, expected, title, done)),
            Todos::DynamoDb(d) => d.update(id, expected, title, done).await,
        }
    }

    /// Deletes the todo `id`.
    pub(crate) async fn delete(&self, id: &str) -> Result<Result<(), WriteError>, halo::Error> {
        match self {
            Todos::Memory(m) => Ok(m.delete(id)),
            Todos::DynamoDb(d) => d.delete(id).await,
        }
    }
}
