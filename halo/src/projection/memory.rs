//! [`MemoryViews`]: views in the process, for local runs and tests.

use std::collections::HashMap;
use std::sync::Mutex;

use serde_json::Value;

use super::store::{Applied, Guard, ViewStore};
use super::write::ViewWrite;
use crate::durable::StoreError;
use crate::future::BoxFuture;

/// Views held in the process: what a local run and a test use.
#[derive(Debug, Default)]
pub struct MemoryViews {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// (view, key) -> item.
    items: HashMap<(String, String), Value>,
    /// (projection, source) -> the last applied sequence number.
    applied: HashMap<(String, String), u128>,
}

impl MemoryViews {
    /// No views yet.
    pub fn new() -> MemoryViews {
        MemoryViews::default()
    }
}

impl ViewStore for MemoryViews {
    fn apply<'a>(&'a self, guard: &'a Guard, writes: &'a [ViewWrite]) -> BoxFuture<'a, Result<Applied, StoreError>> {
        Box::pin(async move {
            let mut state = crate::lock::lock(&self.state);
            let marker = (guard.projection.clone(), guard.source.clone());
            if state.applied.get(&marker).is_some_and(|last| *last >= guard.sequence) {
                return Ok(Applied::AlreadyApplied);
            }
            for write in writes {
                let at = (write.view().to_owned(), write.key().to_owned());
                match write.applied_to(state.items.remove(&at)) {
                    Some(item) => state.items.insert(at, item),
                    None => None,
                };
            }
            state.applied.insert(marker, guard.sequence);
            Ok(Applied::Written)
        })
    }

    fn get<'a>(&'a self, view: &'a str, key: &'a str) -> BoxFuture<'a, Result<Option<Value>, StoreError>> {
        Box::pin(async move {
            let state = crate::lock::lock(&self.state);
            Ok(state.items.get(&(view.to_owned(), key.to_owned())).cloned())
        })
    }
}
