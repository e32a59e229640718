//! The model of a saga definition with its types erased to JSON: the steps
//! (nodes), how each step's input and output meet the saga state, ASL
//! catchers. [`Saga`](super::Saga) builds it, the ASL loader lowers into it,
//! the executor runs it.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize as _;
use serde_json::Value;

use super::error::StepError;
use super::step::{Step, StepCtx, StepOptions};
use crate::future::BoxFuture;
use crate::platform::Clock;

/// A step with its types erased to JSON: what the executor runs.
pub(crate) trait DynStep: Send + Sync {
    fn run<'a>(&'a self, ctx: &'a StepCtx, input: Value) -> BoxFuture<'a, Result<Value, StepError>>;
    /// Whether it has a compensation (a pause has none).
    fn has_compensation(&self) -> bool {
        false
    }
    /// Undoes it (nothing, without a compensation).
    fn compensate<'a>(
        &'a self,
        _ctx: &'a StepCtx,
        _input: Value,
        _output: Option<Value>,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// The code of a step error caused by (de)serialising its input or output.
pub(crate) const DATA_ERROR: &str = "SagaDataError";

fn data_error(what: &str, err: serde_json::Error) -> StepError {
    StepError::new(DATA_ERROR, format!("{what}: {err}"))
}

impl<S: Step> DynStep for S {
    fn run<'a>(&'a self, ctx: &'a StepCtx, input: Value) -> BoxFuture<'a, Result<Value, StepError>> {
        Box::pin(async move {
            let input = S::Input::deserialize(input).map_err(|e| data_error("step input", e))?;
            let output = Step::run(self, ctx, input).await.map_err(StepError::from_error)?;
            serde_json::to_value(output).map_err(|e| data_error("step output", e))
        })
    }

    fn has_compensation(&self) -> bool {
        Step::has_compensation(self)
    }

    fn compensate<'a>(
        &'a self,
        ctx: &'a StepCtx,
        input: Value,
        output: Option<Value>,
    ) -> BoxFuture<'a, Result<(), StepError>> {
        Box::pin(async move {
            let input = S::Input::deserialize(input).map_err(|e| data_error("step input", e))?;
            let output = match output {
                Some(output) => Some(S::Output::deserialize(output).map_err(|e| data_error("step output", e))?),
                None => None,
            };
            Step::compensate(self, ctx, input, output).await.map_err(StepError::from_error)
        })
    }
}

/// Computes a step's input from the saga state.
pub(crate) type InputFn = Arc<dyn Fn(&Value) -> Result<Value, serde_json::Error> + Send + Sync>;

/// How a step's output joins the saga state.
#[derive(Clone)]
pub(crate) enum Merge {
    /// The output becomes the state.
    Replace,
    /// The state becomes `[state, output]` (a tuple).
    Pair,
    /// ASL `ResultPath`: `None` discards the output, `Some([])` (`$`)
    /// replaces the state, `Some(path)` sets the field.
    ResultPath(Option<Vec<String>>),
}

impl Merge {
    pub(crate) fn apply(&self, state: &Value, output: Value) -> Value {
        match self {
            Merge::Replace => output,
            Merge::Pair => Value::Array(vec![state.clone(), output]),
            Merge::ResultPath(None) => state.clone(),
            Merge::ResultPath(Some(path)) => set_path(state.clone(), path, output),
        }
    }
}

/// Sets `path` (object keys) in `doc` to `value`, creating objects on the
/// way; a non-object on the way is replaced by an object.
pub(crate) fn set_path(doc: Value, path: &[String], value: Value) -> Value {
    let Some((first, rest)) = path.split_first() else { return value };
    let mut map = match doc {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    let child = map.remove(first).unwrap_or(Value::Null);
    map.insert(first.clone(), set_path(child, rest, value));
    Value::Object(map)
}

/// An ASL `Catch`: the error codes it handles, where the error goes in the
/// state, and the compensation chain it starts.
#[derive(Clone)]
pub(crate) struct Catcher {
    pub(crate) codes: Vec<String>,
    pub(crate) result_path: Option<Vec<String>>,
    pub(crate) chain: Vec<String>,
}

impl Catcher {
    pub(crate) fn matches(&self, code: &str) -> bool {
        self.codes.iter().any(|c| c == "States.ALL" || c == code)
    }
}

/// One step of a saga definition, types erased.
#[derive(Clone)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) input: Option<InputFn>,
    pub(crate) merge: Merge,
    pub(crate) step: Arc<dyn DynStep>,
    pub(crate) options: StepOptions,
    /// `Some` for ASL states: the catchers, in order.
    pub(crate) catch: Option<Vec<Catcher>>,
    /// `Some` for a pause between steps (a timer, a callback) instead of
    /// a step.
    #[cfg_attr(not(feature = "durable-execution"), allow(dead_code))]
    pub(crate) pause: Option<Pause>,
}

/// Sends a callback's id where it will be answered from (a human's inbox,
/// another system's queue), with the saga state.
pub(crate) type SubmitFn = dyn Fn(StepCtx, String, Value) -> BoxFuture<'static, Result<(), StepError>> + Send + Sync;

/// A pause between steps: it has no compensation, and its outcome (the
/// callback's payload) joins the state as a step's output does.
#[derive(Clone)]
#[cfg_attr(not(feature = "durable-execution"), allow(dead_code))]
pub(crate) enum Pause {
    /// Waits this long.
    Timer(std::time::Duration),
    /// Waits for a callback: its id is submitted, its payload is the
    /// output; `timeout` bounds the wait.
    Callback { submit: Arc<SubmitFn>, timeout: Option<std::time::Duration> },
}

impl Node {
    pub(crate) fn input(&self, state: &Value) -> Result<Value, StepError> {
        match &self.input {
            None => Ok(state.clone()),
            Some(f) => f(state).map_err(|e| data_error("mapping the step input", e)),
        }
    }
}

/// A saga definition with its types erased: what the executor runs. A
/// [`Saga`](super::Saga) holds one behind an `Arc`, so a run never copies
/// its nodes.
#[derive(Clone)]
pub(crate) struct Definition {
    pub(crate) name: String,
    pub(crate) nodes: Vec<Node>,
    /// ASL compensation chain states, by name.
    pub(crate) chain_nodes: HashMap<String, Node>,
    pub(crate) clock: Arc<dyn Clock>,
    /// What steps reach with [`StepCtx::state`](super::StepCtx::state).
    pub(crate) state: Option<super::step::SharedState>,
}

impl Definition {
    /// The steps whose compensations run, in order, after step `failed`
    /// failed: its own first when it may have acted (it has side effects,
    /// or `interrupted`: an earlier run was cut short inside it), then the
    /// completed steps' in reverse order; steps without a compensation
    /// are skipped.
    pub(crate) fn compensation_plan(&self, failed: usize, interrupted: bool) -> impl Iterator<Item = usize> + '_ {
        let node = &self.nodes[failed];
        let own = ((node.options.side_effects || interrupted) && node.step.has_compensation()).then_some(failed);
        own.into_iter().chain((0..failed).rev().filter(|&k| self.nodes[k].step.has_compensation()))
    }
}
