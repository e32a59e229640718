//! Steps: the [`Step`] trait (what `#[saga_step]` implements), the context a
//! step runs with ([`StepCtx`]) and its options (retries, side effects,
//! time budget).

use std::future::Future;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::retry::Backoff;
use crate::{Error, IntoError};

/// What a step (or a compensation) knows about its run.
///
/// [`idempotency_token`](StepCtx::idempotency_token) is stable for one step
/// of one saga (`saga_id/step`): it is the same when the step is re-run after
/// a crash or a retry, so pass it to downstream services as an idempotency
/// key and they apply the step's effect at most once.
///
/// ```
/// let ctx = halo::saga::StepCtx::for_test("trip-42", "book_hotel");
/// assert_eq!(ctx.idempotency_token(), "trip-42/book_hotel");
/// assert_eq!(ctx.attempt(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct StepCtx {
    pub(crate) saga_id: String,
    pub(crate) saga: String,
    pub(crate) step: String,
    pub(crate) attempt: u32,
    pub(crate) compensating: bool,
    pub(crate) correlation_id: Option<String>,
    pub(crate) state: Option<SharedState>,
}

/// The state a saga was given with [`Saga::state`](super::Saga::state).
#[derive(Clone)]
pub(crate) struct SharedState(pub(crate) std::sync::Arc<dyn std::any::Any + Send + Sync>);

impl std::fmt::Debug for SharedState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedState")
    }
}

impl StepCtx {
    /// The state the saga was given with
    /// [`Saga::state`](super::Saga::state), as `S`: an internal
    /// error when the saga has no state of that type (a wiring mistake,
    /// never the caller's).
    ///
    /// ```
    /// let ctx = halo::saga::StepCtx::for_test("trip-1", "book_hotel");
    /// assert_eq!(ctx.state::<u32>().unwrap_err().status(), 500);
    /// assert_eq!(*ctx.with_state(7u32).state::<u32>().unwrap(), 7);
    /// ```
    pub fn state<S: std::any::Any>(&self) -> Result<&S, crate::Error> {
        self.state.as_ref().and_then(|state| state.0.downcast_ref::<S>()).ok_or_else(|| {
            crate::Error::internal(format!(
                "saga `{}` has no state of type `{}`: give it with Saga::state",
                self.saga,
                std::any::type_name::<S>()
            ))
        })
    }

    /// This context with `state` (a unit test of a step that uses
    /// [`StepCtx::state`]).
    #[must_use]
    pub fn with_state<S: std::any::Any + Send + Sync>(mut self, state: S) -> StepCtx {
        self.state = Some(SharedState(std::sync::Arc::new(state)));
        self
    }

    /// A context for unit tests of a step: attempt 1, not compensating.
    pub fn for_test(saga_id: impl Into<String>, step: impl Into<String>) -> StepCtx {
        StepCtx {
            saga_id: saga_id.into(),
            saga: "test".into(),
            step: step.into(),
            attempt: 1,
            compensating: false,
            correlation_id: None,
            state: None,
        }
    }

    /// The context of the first attempt of `step` (or its compensation)
    /// in a run of the saga `saga_id` of `def`, in the invocation `ctx`.
    pub(crate) fn first_attempt(
        saga_id: &str,
        def: &super::definition::Definition,
        step: &str,
        compensating: bool,
        ctx: Option<&crate::Ctx>,
    ) -> StepCtx {
        StepCtx {
            saga_id: saga_id.to_owned(),
            saga: def.name.clone(),
            step: step.to_owned(),
            attempt: 1,
            compensating,
            correlation_id: ctx.and_then(|c| c.correlation_id()).map(str::to_owned),
            state: def.state.clone(),
        }
    }

    /// The saga's id (the key of its record in the saga log).
    pub fn saga_id(&self) -> &str {
        &self.saga_id
    }

    /// The saga's name.
    pub fn saga(&self) -> &str {
        &self.saga
    }

    /// The step's name.
    pub fn step(&self) -> &str {
        &self.step
    }

    /// The attempt within this run (1 for the first); retries add one.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// True while the step's compensation runs.
    pub fn is_compensating(&self) -> bool {
        self.compensating
    }

    /// `saga_id/step`: the same for every attempt and every resumed run of
    /// this step, and for its compensation, which cancels by it when it
    /// gets no output (the step failed or was interrupted after acting).
    pub fn idempotency_token(&self) -> String {
        self.idempotency_token_of(&self.step)
    }

    /// The idempotency token another step of this saga sends
    /// (`saga_id/step`): for an ASL compensation chain state, which undoes
    /// a `Task` state by that state's token when its result is missing.
    ///
    /// ```
    /// let ctx = halo::saga::StepCtx::for_test("trip-42", "CancelHotel");
    /// assert_eq!(ctx.idempotency_token_of("BookHotel"), "trip-42/BookHotel");
    /// ```
    pub fn idempotency_token_of(&self, step: &str) -> String {
        format!("{}/{step}", self.saga_id)
    }

    /// The correlation id of the invocation running the saga, if any.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }
}

/// How a step is run: retries of the step and of its compensation, whether
/// a failed attempt may have had side effects, and the time it needs.
///
/// ```
/// use std::time::Duration;
/// use halo::retry::Backoff;
/// use halo::saga::StepOptions;
///
/// let options = StepOptions::default().retry(Backoff::new(3)).side_effects(true).budget(Duration::from_secs(2));
/// assert!(options.has_side_effects());
/// ```
#[derive(Debug, Clone)]
pub struct StepOptions {
    pub(crate) retry: Vec<RetryRule>,
    pub(crate) compensation_retry: Backoff,
    pub(crate) side_effects: bool,
    pub(crate) budget: Duration,
}

/// Retries for the errors whose code is in `codes` (all errors when `None`).
#[derive(Debug, Clone)]
pub(crate) struct RetryRule {
    /// The error codes this rule retries; `None` for every error.
    pub(crate) codes: Option<Vec<String>>,
    /// The schedule (its `max_attempts` counts the first attempt).
    pub(crate) backoff: Backoff,
}

impl RetryRule {
    pub(crate) fn matches(&self, code: &str) -> bool {
        self.codes.as_ref().is_none_or(|codes| codes.iter().any(|c| c == code || c == "States.ALL"))
    }
}

impl Default for StepOptions {
    /// No step retry; compensations retried 5 times (100 ms doubling, full
    /// jitter, at most 5 s apart); a failed step has no side effects (its
    /// own compensation does not run); a budget of 1 s.
    fn default() -> Self {
        StepOptions {
            retry: Vec::new(),
            compensation_retry: Backoff::new(5),
            side_effects: false,
            budget: Duration::from_secs(1),
        }
    }
}

impl StepOptions {
    /// Retries every error of the step with this schedule.
    #[must_use]
    pub fn retry(mut self, backoff: Backoff) -> StepOptions {
        self.retry = vec![RetryRule { codes: None, backoff }];
        self
    }

    /// Adds a retry rule for some error codes (ASL `Retry`); the first
    /// matching rule applies, each with its own attempt counter.
    #[must_use]
    pub(crate) fn retry_rule(mut self, rule: RetryRule) -> StepOptions {
        self.retry.push(rule);
        self
    }

    /// The retry schedule of the step's compensation.
    #[must_use]
    pub fn compensation_retry(mut self, backoff: Backoff) -> StepOptions {
        self.compensation_retry = backoff;
        self
    }

    /// Marks the step as possibly having side effects even when it fails:
    /// then its own compensation runs too (with no output) when it fails.
    #[must_use]
    pub fn side_effects(mut self, yes: bool) -> StepOptions {
        self.side_effects = yes;
        self
    }

    /// The time the step needs: when less is left of the Lambda budget
    /// before the step starts, the saga suspends instead.
    #[must_use]
    pub fn budget(mut self, budget: Duration) -> StepOptions {
        self.budget = budget;
        self
    }

    /// Whether a failed attempt may have had side effects.
    pub fn has_side_effects(&self) -> bool {
        self.side_effects
    }
}

/// One step of a saga, with its optional compensation.
///
/// `#[halo::saga_step]` implements it for an `async fn`; implement it by
/// hand for steps with state (clients) or to skip the macro:
///
/// ```
/// use halo::saga::{Step, StepCtx};
///
/// struct Reserve;
///
/// impl Step for Reserve {
///     type Input = u32;
///     type Output = String;
///     type Error = halo::Error;
///
///     fn name(&self) -> &str { "reserve" }
///
///     async fn run(&self, ctx: &StepCtx, seats: u32) -> Result<String, halo::Error> {
///         Ok(format!("{seats} seats, token {}", ctx.idempotency_token()))
///     }
///
///     fn has_compensation(&self) -> bool { true }
///
///     async fn compensate(&self, _ctx: &StepCtx, _seats: u32, _reservation: Option<String>) -> Result<(), halo::Error> {
///         Ok(())
///     }
/// }
/// ```
pub trait Step: Send + Sync + 'static {
    /// What the step takes.
    type Input: Serialize + DeserializeOwned + Send + 'static;
    /// What the step produces (stored in the saga log).
    type Output: Serialize + DeserializeOwned + Send + 'static;
    /// Its error: a halo [`Error`] or anything [`IntoError`]; the error's
    /// code is recorded and matched by ASL `Retry`/`Catch`.
    type Error: IntoError + Send + 'static;

    /// The step's name, unique within a saga (it is the log's key).
    fn name(&self) -> &str;

    /// Does the step's work.
    fn run(&self, ctx: &StepCtx, input: Self::Input) -> impl Future<Output = Result<Self::Output, Self::Error>> + Send;

    /// Whether the step has a compensation.
    fn has_compensation(&self) -> bool {
        false
    }

    /// Undoes the step. `output` is the step's output when it completed, and
    /// `None` when the step failed with [side effects](StepOptions::side_effects)
    /// or was interrupted (a crash or a lost lease while it ran: it may have
    /// acted, and its output was never recorded): then undo by
    /// [`StepCtx::idempotency_token`], the token the step sent downstream
    /// (the same in the compensation), and treat "nothing found" as done.
    /// Must be idempotent: it may run again after a crash.
    fn compensate(
        &self,
        ctx: &StepCtx,
        input: Self::Input,
        output: Option<Self::Output>,
    ) -> impl Future<Output = Result<(), Error>> + Send {
        let _ = (ctx, input, output);
        async { Ok(()) }
    }

    /// Retries, side effects and time budget of the step.
    fn options(&self) -> StepOptions {
        StepOptions::default()
    }
}
