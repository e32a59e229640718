//! [`Execution`]: what a durable handler gets beside its event and
//! [`Ctx`](crate::Ctx).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use aws_durable_execution_sdk::DurableContext;

/// The durable execution an invocation continues, and the container's
/// state: the third argument of a durable handler,
/// `async fn(E, &Ctx, &Execution<S>)`.
///
/// It dereferences to the SDK's [`DurableContext`], so its operations
/// (`step`, `wait`, `create_callback`, `wait_for_callback`, `invoke`, `map`,
/// `parallel`...) are called on it directly; a saga runs on it with
/// [`Saga::run_durable`](crate::saga::Saga::run_durable).
pub struct Execution<S = ()> {
    context: DurableContext,
    state: Arc<S>,
}

impl<S> Execution<S> {
    pub(crate) fn new(context: DurableContext, state: Arc<S>) -> Execution<S> {
        Execution { context, state }
    }

    /// The SDK's context of this execution.
    pub fn context(&self) -> &DurableContext {
        &self.context
    }

    /// The state the container's init built.
    pub fn state(&self) -> &S {
        &self.state
    }

    /// The execution's ARN, the same for every invocation of it.
    pub fn arn(&self) -> &str {
        self.context.execution_arn()
    }
}

impl<S> Deref for Execution<S> {
    type Target = DurableContext;

    fn deref(&self) -> &DurableContext {
        &self.context
    }
}

impl<S> fmt::Debug for Execution<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Execution").field("arn", &self.arn()).finish_non_exhaustive()
    }
}
