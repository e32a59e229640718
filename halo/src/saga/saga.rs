//! The [`Saga`] builder: typed steps in order, each step's input taken from
//! what the earlier steps produced.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::backend::SagaBackend;
use super::definition::{Definition, InputFn, Merge, Node, Pause, SubmitFn};
use super::error::{SagaError, StepError};
use super::executor;
use super::log::SagaLog;
use super::step::{Step, StepCtx, StepOptions};
use crate::platform::{Clock, SystemClock};

/// A saga: steps run in order; when one fails, the completed ones are
/// compensated in reverse order. `I` is its input, `O` its output.
///
/// [`step`](Saga::step) chains a step whose input is the previous output
/// (the saga input for the first step); [`step_with`](Saga::step_with)
/// builds the step's input from everything so far and keeps it: the output
/// becomes the pair `(everything so far, step output)`, so later steps see
/// every earlier output, typed.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use halo::saga::{MemorySagaLog, Saga, StepCtx};
///
/// #[halo::saga_step]
/// async fn add_one(_ctx: &StepCtx, n: u32) -> Result<u32, halo::Error> { Ok(n + 1) }
///
/// #[halo::saga_step]
/// async fn double(_ctx: &StepCtx, n: u32) -> Result<u32, halo::Error> { Ok(n * 2) }
///
/// let saga = Saga::<u32>::new("math").step(add_one).step_with(double, |n: &u32| *n);
/// let log = MemorySagaLog::new();
/// let (after_add, doubled) = saga.run(&log, "m-1", 20).await.unwrap();
/// assert_eq!((after_add, doubled), (21, 42));
/// // Run again with the same id: the recorded outcome, no step re-runs.
/// assert_eq!(saga.run(&log, "m-1", 20).await.unwrap(), (21, 42));
/// # });
/// ```
pub struct Saga<I, O = I> {
    def: Arc<Definition>,
    _types: PhantomData<fn(I) -> O>,
}

impl<I, O> Clone for Saga<I, O> {
    fn clone(&self) -> Self {
        Saga { def: Arc::clone(&self.def), _types: PhantomData }
    }
}

impl<I, O> fmt::Debug for Saga<I, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let steps: Vec<&str> = self.def.nodes.iter().map(|n| n.name.as_str()).collect();
        f.debug_struct("Saga").field("name", &self.def.name).field("steps", &steps).finish()
    }
}

impl<I, O> Saga<I, O> {
    pub(crate) fn from_parts(name: String, nodes: Vec<Node>, chain_nodes: HashMap<String, Node>) -> Saga<I, O> {
        Saga {
            def: Arc::new(Definition { name, nodes, chain_nodes, clock: Arc::new(SystemClock), state: None }),
            _types: PhantomData,
        }
    }
}

impl<I> Saga<I, I> {
    /// A saga without steps; its name is stored with every record.
    pub fn new(name: impl Into<String>) -> Saga<I, I> {
        Saga::from_parts(name.into(), Vec::new(), HashMap::new())
    }
}

impl<I, O> Saga<I, O>
where
    I: Serialize + Send + Sync + 'static,
    O: DeserializeOwned + Send + 'static,
{
    /// Adds a step taking the current output (the saga input for the first
    /// step); its output becomes the current output.
    pub fn step<S: Step<Input = O>>(self, step: S) -> Saga<I, S::Output> {
        let options = step.options();
        let name = step.name().to_owned();
        self.push(Node {
            name,
            input: None,
            merge: Merge::Replace,
            step: Arc::new(step),
            options,
            catch: None,
            pause: None,
        })
    }

    /// Adds a step whose input `input` builds from the current output;
    /// the current output becomes `(current, step output)`.
    pub fn step_with<S, F>(self, step: S, input: F) -> Saga<I, (O, S::Output)>
    where
        S: Step,
        F: Fn(&O) -> S::Input + Send + Sync + 'static,
    {
        let options = step.options();
        let name = step.name().to_owned();
        let map: InputFn = Arc::new(move |state: &Value| {
            let current = O::deserialize(state)?;
            serde_json::to_value(input(&current))
        });
        self.push(Node {
            name,
            input: Some(map),
            merge: Merge::Pair,
            step: Arc::new(step),
            options,
            catch: None,
            pause: None,
        })
    }

    /// Waits `duration` before the next step, the state unchanged.
    ///
    /// On durable execution ([`Saga::run_durable`]) it is a durable wait:
    /// the execution stops and costs nothing until it is over. On halo's
    /// saga log it holds the invocation (when less time is left than the
    /// wait needs, the saga suspends, and the wait starts over when it is
    /// resumed).
    #[must_use]
    pub fn wait(self, name: impl Into<String>, duration: std::time::Duration) -> Saga<I, O> {
        let options = StepOptions::default().budget(duration + std::time::Duration::from_secs(1));
        let node = Node {
            name: name.into(),
            input: None,
            merge: Merge::ResultPath(None),
            step: Arc::new(super::pause::TimerStep(duration)),
            options,
            catch: None,
            pause: Some(Pause::Timer(duration)),
        };
        self.push(node)
    }

    /// Waits for a callback before the next step: `submit` gets the
    /// callback's id (and the current output) to send to whoever answers
    /// it: a person approving, another system. The answer's payload, a
    /// `T`, joins the output as a step's does: `(current, payload)`.
    /// `timeout` bounds the wait; a callback that times out or is answered
    /// with a failure fails the saga there, and the completed steps are
    /// compensated.
    ///
    /// It needs durable execution ([`Saga::run_durable`]), where the
    /// execution stops and costs nothing until the answer comes: on halo's
    /// saga log it fails with the code `SagaCallbackUnsupported`.
    ///
    /// `submit` runs as a durable step: once, unless the invocation is
    /// interrupted while it runs (then again, with the same callback id).
    /// It gets its [`StepCtx`] by value, as its future outlives the call.
    #[must_use]
    pub fn wait_for_callback<T, F, Fut>(
        self,
        name: impl Into<String>,
        timeout: Option<std::time::Duration>,
        submit: F,
    ) -> Saga<I, (O, T)>
    where
        T: DeserializeOwned + Send + 'static,
        F: Fn(StepCtx, String, O) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), crate::Error>> + Send + 'static,
    {
        let submit: Arc<SubmitFn> = Arc::new(move |ctx: StepCtx, callback_id: String, state: Value| {
            let current = O::deserialize(state);
            match current {
                Ok(current) => {
                    let sent = submit(ctx, callback_id, current);
                    Box::pin(async move { sent.await.map_err(StepError::from_error) })
                }
                Err(err) => Box::pin(std::future::ready(Err(StepError::new(
                    super::definition::DATA_ERROR,
                    format!("the saga state: {err}"),
                )))),
            }
        });
        let node = Node {
            name: name.into(),
            input: None,
            merge: Merge::Pair,
            step: Arc::new(super::pause::CallbackStep),
            options: StepOptions::default(),
            catch: None,
            pause: Some(Pause::Callback { submit, timeout }),
        };
        self.push(node)
    }

    fn push<P>(mut self, node: Node) -> Saga<I, P> {
        Arc::make_mut(&mut self.def).nodes.push(node);
        Saga { def: self.def, _types: PhantomData }
    }

    /// Renames the saga (the name stored with its records, matched by
    /// [`recover`](super::recover)).
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Saga<I, O> {
        Arc::make_mut(&mut self.def).name = name.into();
        self
    }

    /// Uses `clock` for leases and timestamps (tests move time with a
    /// [`ManualClock`](crate::platform::ManualClock)).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Saga<I, O> {
        Arc::make_mut(&mut self.def).clock = clock;
        self
    }

    /// Gives every step and compensation of this saga `state` (what the
    /// container's `init` built: clients, settings), reached with
    /// [`StepCtx::state`](super::StepCtx::state); no global needed.
    ///
    /// ```
    /// use halo::saga::{Saga, StepCtx};
    ///
    /// struct Services { base: String }
    ///
    /// #[halo::saga_step]
    /// async fn book(ctx: &StepCtx, trip: String) -> Result<String, halo::Error> {
    ///     let services: &Services = ctx.state()?;
    ///     Ok(format!("{}/book/{trip}", services.base))
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let saga = Saga::<String>::new("trip").step(book).state(Services { base: "https://hotels".into() });
    /// let log = halo::saga::MemorySagaLog::new();
    /// assert_eq!(saga.run(&log, "t-1", "t-1".into()).await.unwrap(), "https://hotels/book/t-1");
    /// # });
    /// ```
    #[must_use]
    pub fn state<S: std::any::Any + Send + Sync>(mut self, state: S) -> Saga<I, O> {
        Arc::make_mut(&mut self.def).state = Some(super::step::SharedState(Arc::new(state)));
        self
    }

    /// The saga's name.
    pub fn name(&self) -> &str {
        &self.def.name
    }

    /// The step names, in order.
    pub fn step_names(&self) -> Vec<&str> {
        self.def.nodes.iter().map(|n| n.name.as_str()).collect()
    }

    /// Runs the saga `saga_id` with `input`, or continues it from the log.
    ///
    /// A new id starts the saga. A known id never re-runs a completed step:
    /// an interrupted step or compensation runs again (same idempotency
    /// token; when that re-run of a step fails, the step's own compensation
    /// runs too, with no output, as it may have acted before the
    /// interruption), and a finished saga returns its recorded outcome (the
    /// recorded input wins over `input`). The remaining time and the lease
    /// come from the invocation's [`Ctx`](crate::Ctx), when there is one.
    ///
    /// # Errors
    ///
    /// [`SagaError::RolledBack`] after every needed compensation succeeded,
    /// [`SagaError::CompensationFailed`] when one did not (all are
    /// attempted); [`SagaError::InProgress`] when another run holds the
    /// lease, [`SagaError::Suspended`] when the time left is below the next
    /// action's budget, [`SagaError::Log`] when the log fails (all three
    /// retryable).
    pub async fn run(&self, log: &dyn SagaLog, saga_id: &str, input: I) -> Result<O, SagaError> {
        let input = serde_json::to_value(input)
            .map_err(|e| SagaError::Definition(format!("the saga input does not serialise: {e}")))?;
        let output = executor::execute(&self.def, log, saga_id, Some(input)).await?;
        Self::output(output)
    }

    /// Runs the saga on a Lambda durable execution (feature
    /// `durable-execution`): each step and each compensation is one named
    /// durable step (a compensation's is `<step>:compensate`), a pause a
    /// durable wait or callback. The execution's checkpoints are its log:
    /// when the execution resumes (after a wait, a crash, a timeout) the
    /// recorded steps and compensations return their outcomes without
    /// running again, and the saga goes on from the first without one, in
    /// the middle of a rollback too. `saga_id` names the saga in its steps'
    /// idempotency tokens and its log lines.
    ///
    /// A step interrupted before its outcome was recorded runs again, with
    /// the same idempotency token, as on halo's log; a failed step's
    /// compensations run in reverse order, retried by their schedules
    /// (the execution suspends between attempts).
    ///
    /// # Errors
    ///
    /// As [`Saga::run`]: [`SagaError::RolledBack`] and
    /// [`SagaError::CompensationFailed`] after a failed step;
    /// [`SagaError::Log`] when the SDK could not record or replay an
    /// operation; [`SagaError::Definition`] for a saga loaded from ASL with
    /// catchers (it runs on halo's log).
    #[cfg(feature = "durable-execution")]
    pub async fn run_durable(
        &self,
        execution: &aws_durable_execution_sdk::DurableContext,
        saga_id: &str,
        input: I,
    ) -> Result<O, SagaError> {
        let input = serde_json::to_value(input)
            .map_err(|e| SagaError::Definition(format!("the saga input does not serialise: {e}")))?;
        let output = super::durable::execute(&self.def, execution, saga_id, input).await?;
        Self::output(output)
    }

    /// Runs the saga on `backend`: halo's saga log ([`Saga::run`]) or a
    /// durable execution ([`Saga::run_durable`]), the same steps either
    /// way.
    pub async fn run_on(&self, backend: &SagaBackend, saga_id: &str, input: I) -> Result<O, SagaError> {
        match backend {
            SagaBackend::Log(log) => self.run(log.as_ref(), saga_id, input).await,
            #[cfg(feature = "durable-execution")]
            SagaBackend::Durable(execution) => self.run_durable(execution, saga_id, input).await,
        }
    }

    /// Continues the saga `saga_id` from the log (what
    /// [`recover`](super::recover) does); fails with
    /// [`SagaError::Definition`] when the log has no such saga.
    pub async fn resume(&self, log: &dyn SagaLog, saga_id: &str) -> Result<O, SagaError> {
        let output = executor::execute(&self.def, log, saga_id, None).await?;
        Self::output(output)
    }

    /// Stops the saga `saga_id` and compensates what it did: the step in
    /// progress (interrupted or not yet started) is marked failed with the
    /// code `SagaAborted`, and an interrupted step's own compensation runs
    /// too, first, with no output and the token the interrupted attempt
    /// used (it may have had an effect). A finished saga is left as it is;
    /// one another run holds the lease of is [`SagaError::InProgress`].
    pub async fn abort(&self, log: &dyn SagaLog, saga_id: &str) -> Result<(), SagaError> {
        executor::abort(&self.def, log, saga_id).await.map(|_| ())
    }

    fn output(output: Value) -> Result<O, SagaError> {
        O::deserialize(output).map_err(|e| SagaError::Definition(format!("the recorded output does not fit: {e}")))
    }
}
