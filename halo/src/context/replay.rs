//! What a [`Ctx`](super::Ctx) knows of the durable execution its
//! invocation continues (Lambda durable functions): the execution's ARN
//! and whether the code running now is being replayed.
//!
//! A durable function's handler runs again from the top on every
//! invocation of its execution, while the operations it already completed
//! return their recorded results. Code between those operations runs once
//! per invocation; halo keeps its effects once per execution by asking
//! [`Ctx::is_replaying`](super::Ctx::is_replaying): log lines and metrics
//! recorded while it is true are dropped.

use std::fmt;
use std::sync::Arc;

/// The durable execution of an invocation.
#[derive(Clone)]
pub(crate) struct DurableRun {
    /// The execution's ARN, the same for each of its invocations.
    pub(crate) execution_arn: Arc<str>,
    /// Whether the code running now replays recorded operations (asked on
    /// every log line and metric, so it must be cheap).
    pub(crate) replaying: Arc<dyn Fn() -> bool + Send + Sync>,
}

impl fmt::Debug for DurableRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DurableRun").field("execution_arn", &self.execution_arn).finish_non_exhaustive()
    }
}
