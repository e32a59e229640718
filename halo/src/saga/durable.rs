//! Runs a saga on Lambda durable execution: each step and each
//! compensation one named durable step, a pause a durable wait or
//! callback. The execution's checkpoints are the saga's log: a resumed
//! execution replays the recorded steps and compensations (their bodies
//! do not run again) and goes on from the first one without an outcome.
//!
//! A step's final failure is recorded as the step's outcome (with its
//! code, detail and public message), so a replay rebuilds the same
//! [`SagaError`]; an attempt that a retry rule retries fails the durable
//! step with the delay, and the SDK schedules the next attempt (the
//! execution suspends between attempts).

use std::time::Duration;

use aws_durable_execution_sdk::{DurableContext, OperationError, RetryDecision};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument as _;

use super::definition::{Definition, Merge, Node, Pause};
use super::error::{FailedCompensation, SagaError, StepError};
use super::step::StepCtx;
use crate::Ctx;
use crate::durable::StoreError;
use crate::metrics::builtin;

/// A durable step's recorded outcome.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Outcome {
    Done(Value),
    Failed(StepError),
}

/// An attempt a retry rule retries: the SDK waits `delay`, then runs the
/// step again.
#[derive(Debug)]
struct RetryAfter {
    delay: Duration,
    error: StepError,
}

impl std::fmt::Display for RetryAfter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "retried after {:?}: {}", self.delay, self.error)
    }
}

impl std::error::Error for RetryAfter {}

/// The name of the durable step of a compensation.
pub(crate) fn compensation_name(step: &str) -> String {
    format!("{step}:compensate")
}

/// Runs the saga `saga_id` with `input` on the execution `durable`.
pub(crate) async fn execute(
    def: &Definition,
    durable: &DurableContext,
    saga_id: &str,
    input: Value,
) -> Result<Value, SagaError> {
    let run = DurableRun { def, durable, saga_id, ctx: Ctx::current() };
    run.drive(input).await
}

struct DurableRun<'a> {
    def: &'a Definition,
    durable: &'a DurableContext,
    saga_id: &'a str,
    ctx: Option<Ctx>,
}

impl DurableRun<'_> {
    async fn drive(&self, input: Value) -> Result<Value, SagaError> {
        if self.def.nodes.iter().any(|node| node.catch.is_some()) || !self.def.chain_nodes.is_empty() {
            return Err(SagaError::Definition(format!(
                "saga `{}` has ASL catchers: it runs on halo's saga log (a typed saga runs on either)",
                self.def.name
            )));
        }
        self.transition("saga_started", "");
        let mut states = vec![input];
        for (i, node) in self.def.nodes.iter().enumerate() {
            let state = &states[i];
            let outcome = match &node.pause {
                None => self.step(node, state).await?,
                Some(Pause::Timer(duration)) => {
                    self.durable
                        .wait(*duration)
                        .name(node.name.clone())
                        .await
                        .map_err(|e| checkpoint_error(&node.name, e))?;
                    Outcome::Done(Value::Null)
                }
                Some(Pause::Callback { submit, timeout }) => self.callback(node, state, submit, *timeout).await?,
            };
            match outcome {
                Outcome::Done(output) => {
                    self.transition("step_done", &node.name);
                    let next = node.merge.apply(state, output);
                    states.push(next);
                }
                Outcome::Failed(cause) => {
                    self.transition("step_failed", &node.name);
                    return Err(self.roll_back(i, &states, cause).await?);
                }
            }
        }
        self.transition("saga_committed", "");
        builtin::count(builtin::SAGA_COMPLETED, Some(&self.def.name));
        Ok(states.pop().unwrap_or(Value::Null))
    }

    /// Step `node` as one durable step, with its retry rules.
    async fn step(&self, node: &Node, state: &Value) -> Result<Outcome, SagaError> {
        let input = match node.input(state) {
            Ok(input) => input,
            Err(err) => return Ok(Outcome::Failed(err)),
        };
        let step = node.step.clone();
        let options = node.options.clone();
        let ctx = self.step_ctx(&node.name, false);
        let scope = self.ctx.clone();
        let span = tracing::info_span!("saga_step", operation = %node.name);
        let body = move |step_ctx: aws_durable_execution_sdk::StepContext| {
            let mut ctx = ctx;
            ctx.attempt = step_ctx.attempt();
            let attempt = ctx.attempt;
            let work = async move {
                match step.run(&ctx, input).await {
                    Ok(output) => Ok(Outcome::Done(output)),
                    Err(error) => match retry_delay(&options.retry, &error, attempt) {
                        Some(delay) => Err(Box::new(RetryAfter { delay, error }).into()),
                        None => Ok(Outcome::Failed(error)),
                    },
                }
            };
            in_scope(scope, work.instrument(span))
        };
        self.durable
            .step(body)
            .name(node.name.clone())
            .retry_strategy(scheduled_retry)
            .await
            .map_err(|e| checkpoint_error(&node.name, e))
    }

    /// A callback pause: the id submitted in a durable step, the payload
    /// awaited at no cost.
    async fn callback(
        &self,
        node: &Node,
        state: &Value,
        submit: &std::sync::Arc<super::definition::SubmitFn>,
        timeout: Option<Duration>,
    ) -> Result<Outcome, SagaError> {
        let submit = std::sync::Arc::clone(submit);
        let ctx = self.step_ctx(&node.name, false);
        let scope = self.ctx.clone();
        let state = state.clone();
        let mut wait = self.durable.wait_for_callback::<Value, _, _>(move |_step_ctx, callback_id| {
            in_scope(scope, async move {
                submit(ctx, callback_id, state)
                    .await
                    .map_err(|err| Box::new(err) as aws_durable_execution_sdk::BoxError)
            })
        });
        wait = wait.name(node.name.clone());
        if let Some(timeout) = timeout {
            wait = wait.timeout(timeout);
        }
        match wait.await {
            Ok(payload) => Ok(Outcome::Done(payload)),
            Err(err) => match err.kind() {
                aws_durable_execution_sdk::OperationErrorKind::Callback(callback) => {
                    let code = match callback.kind() {
                        aws_durable_execution_sdk::CallbackErrorKind::TimedOut { .. } => "SagaCallbackTimedOut",
                        _ => "SagaCallbackFailed",
                    };
                    Ok(Outcome::Failed(StepError::new(code, format!("the callback `{}`: {err:#}", node.name))))
                }
                _ => Err(checkpoint_error(&node.name, err)),
            },
        }
    }

    /// Step `i` failed: the completed steps' compensations, in reverse
    /// order (the step's own first when it may have acted), each one
    /// durable step; the saga's final error.
    async fn roll_back(&self, i: usize, states: &[Value], cause: StepError) -> Result<SagaError, SagaError> {
        let failed = &self.def.nodes[i];
        let mut failures = Vec::new();
        for k in self.def.compensation_plan(i, false) {
            let node = &self.def.nodes[k];
            self.transition("compensation_started", &node.name);
            let output = if k == i { None } else { recorded_output(node, &states[k + 1]) };
            match self.compensate(node, &states[k], output).await? {
                None => self.transition("compensation_done", &node.name),
                Some(error) => {
                    tracing::error!(saga_id = %self.saga_id, saga = %self.def.name, step = %node.name, code = %error.code, detail = %error.detail, "saga compensation failed");
                    self.transition("compensation_failed", &node.name);
                    failures.push(FailedCompensation { name: node.name.clone(), error });
                }
            }
        }
        let (saga_id, failed_step) = (self.saga_id.to_owned(), failed.name.clone());
        if failures.is_empty() {
            self.transition("saga_rolled_back", &failed_step);
            builtin::count(builtin::SAGA_ROLLED_BACK, Some(&self.def.name));
            Ok(SagaError::RolledBack { saga_id, failed_step, cause })
        } else {
            self.transition("saga_compensation_failed", &failed_step);
            builtin::count(builtin::SAGA_COMPENSATION_FAILED, Some(&self.def.name));
            Ok(SagaError::CompensationFailed { saga_id, failed_step, cause, failed_compensations: failures })
        }
    }

    /// One compensation as one durable step, retried by its schedule: its
    /// last error when it still failed.
    async fn compensate(
        &self,
        node: &Node,
        state: &Value,
        output: Option<Value>,
    ) -> Result<Option<StepError>, SagaError> {
        let input = match node.input(state) {
            Ok(input) => input,
            Err(err) => return Ok(Some(err)),
        };
        let step = node.step.clone();
        let backoff = node.options.compensation_retry;
        let ctx = self.step_ctx(&node.name, true);
        let scope = self.ctx.clone();
        let name = compensation_name(&node.name);
        let span = tracing::info_span!("saga_compensation", operation = %name);
        let body = move |step_ctx: aws_durable_execution_sdk::StepContext| {
            let mut ctx = ctx;
            ctx.attempt = step_ctx.attempt();
            let attempt = ctx.attempt;
            let work = async move {
                match step.compensate(&ctx, input, output).await {
                    Ok(()) => Ok(None),
                    Err(error) => match backoff.next_wait(attempt) {
                        Some(delay) => Err(Box::new(RetryAfter { delay, error }).into()),
                        None => Ok(Some(error)),
                    },
                }
            };
            in_scope(scope, work.instrument(span))
        };
        self.durable
            .step(body)
            .name(name.clone())
            .retry_strategy(scheduled_retry)
            .await
            .map_err(|e| checkpoint_error(&name, e))
    }

    fn step_ctx(&self, name: &str, compensating: bool) -> StepCtx {
        StepCtx::first_attempt(self.saga_id, self.def, name, compensating, self.ctx.as_ref())
    }

    /// The saga's transition line (dropped while the execution replays, so
    /// each is written once).
    fn transition(&self, event: &'static str, step: &str) {
        tracing::info!(
            saga_id = %self.saga_id,
            saga = %self.def.name,
            step = (!step.is_empty()).then_some(step),
            event,
            "saga transition"
        );
    }
}

/// The output step `node` produced, from the state after it (what its
/// compensation gets).
fn recorded_output(node: &Node, after: &Value) -> Option<Value> {
    match &node.merge {
        Merge::Replace => Some(after.clone()),
        Merge::Pair => after.as_array().and_then(|pair| pair.get(1)).cloned(),
        Merge::ResultPath(_) => None,
    }
}

/// The delay before the next attempt of a step failing with `error` at
/// `attempt`: the first retry rule matching its code decides.
fn retry_delay(rules: &[super::step::RetryRule], error: &StepError, attempt: u32) -> Option<Duration> {
    let rule = rules.iter().find(|rule| rule.matches(&error.code))?;
    rule.backoff.next_wait(attempt)
}

/// The SDK's retry decision: the delay an attempt asked for, else stop.
fn scheduled_retry(error: &aws_durable_execution_sdk::StepError, _attempt: u32) -> RetryDecision {
    match std::error::Error::source(error).and_then(|source| source.downcast_ref::<RetryAfter>()) {
        Some(retry) => RetryDecision::Retry { delay: retry.delay },
        None => RetryDecision::Stop,
    }
}

/// Runs `work` with the invocation's context current (a step body may run
/// on a task of its own).
fn in_scope<F: std::future::Future>(
    ctx: Option<Ctx>,
    work: F,
) -> futures_util::future::Either<impl std::future::Future<Output = F::Output>, F> {
    match ctx {
        Some(ctx) => futures_util::future::Either::Left(ctx.scope(work)),
        None => futures_util::future::Either::Right(work),
    }
}

/// An operation the SDK could not record or replay (a checkpoint refused,
/// a nondeterministic replay): retryable, as a saga log's failure is.
fn checkpoint_error(operation: &str, err: OperationError) -> SagaError {
    tracing::warn!(operation, error_cause = %format_args!("{err:#}"), "a durable operation of the saga failed");
    SagaError::Log(StoreError::unavailable("durable checkpoint", Box::new(err)))
}
