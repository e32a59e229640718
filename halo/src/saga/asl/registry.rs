//! The step functions an ASL definition's `Resource`s name.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use serde_json::Value;

use crate::future::BoxFuture;
use crate::saga::definition::DynStep;
use crate::saga::error::StepError;
use crate::saga::step::{Step, StepCtx};

/// The step functions an ASL definition's `Resource`s name.
#[derive(Default, Clone)]
pub struct AslRegistry {
    tasks: HashMap<String, Arc<dyn DynStep>>,
}

impl fmt::Debug for AslRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.tasks.keys().collect();
        names.sort();
        f.debug_struct("AslRegistry").field("tasks", &names).finish()
    }
}

pub(super) struct TaskFn<F>(pub(super) F);

impl<F, Fut, E> DynStep for TaskFn<F>
where
    F: Fn(StepCtx, Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, E>> + Send + 'static,
    E: crate::IntoError,
{
    fn run<'a>(&'a self, ctx: &'a StepCtx, input: Value) -> BoxFuture<'a, Result<Value, StepError>> {
        let future = (self.0)(ctx.clone(), input);
        Box::pin(async move { future.await.map_err(StepError::from_error) })
    }

    fn has_compensation(&self) -> bool {
        false
    }

    fn compensate<'a>(&'a self, _: &'a StepCtx, _: Value, _: Option<Value>) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async { Ok(()) })
    }
}

impl AslRegistry {
    /// An empty registry.
    pub fn new() -> AslRegistry {
        AslRegistry::default()
    }

    /// Registers a [`Step`] (e.g. a `#[saga_step]` fn) under `resource`: it
    /// gets the state document as its input and its output goes to the
    /// state's `ResultPath`. Its own compensation is not used: ASL states
    /// the compensation chain explicitly.
    #[must_use]
    pub fn step(mut self, resource: impl Into<String>, step: impl Step) -> AslRegistry {
        self.tasks.insert(resource.into(), Arc::new(step));
        self
    }

    /// Registers an async closure `(StepCtx, state) -> Result<Value, E>`
    /// under `resource`.
    #[must_use]
    pub fn task<F, Fut, E>(mut self, resource: impl Into<String>, f: F) -> AslRegistry
    where
        F: Fn(StepCtx, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, E>> + Send + 'static,
        E: crate::IntoError + 'static,
    {
        self.tasks.insert(resource.into(), Arc::new(TaskFn(f)));
        self
    }

    pub(super) fn find(&self, resource: &str) -> Option<&Arc<dyn DynStep>> {
        self.tasks.get(resource).or_else(|| resource.rsplit(':').next().and_then(|short| self.tasks.get(short)))
    }
}
