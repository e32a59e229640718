//! Pauses between a saga's steps: [`Saga::wait`](super::Saga::wait) and
//! [`Saga::wait_for_callback`](super::Saga::wait_for_callback).
//!
//! On durable execution a pause is a durable wait or callback: the
//! execution stops and costs nothing until it is over. On halo's saga log
//! it is a step of its own: a timer holds the invocation (the saga
//! suspends instead when less time is left than the timer needs), and a
//! callback fails with `SagaCallbackUnsupported` (nothing would answer it).

use std::time::Duration;

use serde_json::Value;

use super::definition::DynStep;
use super::error::StepError;
use super::step::StepCtx;
use crate::future::BoxFuture;

/// The code of the failure of a callback pause on halo's saga log.
pub(crate) const CALLBACK_UNSUPPORTED: &str = "SagaCallbackUnsupported";

/// A timer as a step on halo's saga log.
pub(crate) struct TimerStep(pub(crate) Duration);

impl DynStep for TimerStep {
    fn run<'a>(&'a self, _ctx: &'a StepCtx, _input: Value) -> BoxFuture<'a, Result<Value, StepError>> {
        Box::pin(async move {
            tokio::time::sleep(self.0).await;
            Ok(Value::Null)
        })
    }
}

/// A callback as a step on halo's saga log: it cannot be answered there.
pub(crate) struct CallbackStep;

impl DynStep for CallbackStep {
    fn run<'a>(&'a self, ctx: &'a StepCtx, _input: Value) -> BoxFuture<'a, Result<Value, StepError>> {
        let detail = format!("`{}` waits for a callback, which needs the durable execution backend", ctx.step());
        Box::pin(std::future::ready(Err(StepError::new(CALLBACK_UNSUPPORTED, detail))))
    }
}
