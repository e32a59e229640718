//! Sagas: multi-step operations that either complete or are undone, durably.
//!
//! A saga runs its steps in order. When a step fails (after its retries),
//! the steps that completed are compensated in reverse order, and the
//! saga ends [`SagaError::RolledBack`], or [`SagaError::CompensationFailed`]
//! when a compensation still fails after its retries (every compensation is
//! attempted anyway). There is no third, silent outcome.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use halo::saga::{MemorySagaLog, Saga, SagaError, StepCtx};
//!
//! #[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
//! struct Trip { nights: u32, fail_flight: bool }
//!
//! #[halo::saga_step(compensate = cancel_hotel)]
//! async fn book_hotel(ctx: &StepCtx, trip: Trip) -> Result<String, halo::Error> {
//!     Ok(format!("hotel-{}", ctx.idempotency_token()))
//! }
//!
//! async fn cancel_hotel(_ctx: &StepCtx, _trip: Trip, booking: Option<String>) -> Result<(), halo::Error> {
//!     println!("cancelled {booking:?}");
//!     Ok(())
//! }
//!
//! #[halo::saga_step(retry(attempts = 2, initial_delay = "1ms"))]
//! async fn book_flight(_ctx: &StepCtx, trip: Trip) -> Result<String, halo::Error> {
//!     if trip.fail_flight { Err(halo::Error::conflict("no seats").with_code("NoSeats")) } else { Ok("LH 123".into()) }
//! }
//!
//! let saga = Saga::<Trip>::new("trip")
//!     .step_with(book_hotel, |trip: &Trip| trip.clone())
//!     .step_with(book_flight, |(trip, _hotel): &(Trip, String)| trip.clone());
//! let log = MemorySagaLog::new();
//!
//! let ((_, hotel), flight) = saga.run(&log, "trip-1", Trip { nights: 2, fail_flight: false }).await.unwrap();
//! assert_eq!((hotel.as_str(), flight.as_str()), ("hotel-trip-1/book_hotel", "LH 123"));
//!
//! let err = saga.run(&log, "trip-2", Trip { nights: 2, fail_flight: true }).await.unwrap_err();
//! assert!(matches!(err, SagaError::RolledBack { ref failed_step, .. } if failed_step == "book_flight"));
//! # });
//! ```
//!
//! # Steps and compensations
//!
//! A step is an `async fn(&StepCtx, I) -> Result<O, E>` marked
//! [`#[saga_step]`](saga_step) (or any [`Step`] implementation). Its
//! compensation is an `async fn(&StepCtx, I, Option<O>) -> Result<(), E2>`:
//! it gets the step's input and its output, `None` when the step itself
//! failed or was interrupted. Steps without a compensation (reads) are
//! skipped when rolling back.
//!
//! **Default**: the failed step's own compensation does *not* run (a failed
//! step is assumed to have changed nothing). Mark a step
//! `side_effects = true` when a failed attempt may have left an effect
//! (a timeout after the remote call, say): then its compensation runs first,
//! with `output = None`, and finds the effect through the step's
//! [`idempotency token`](StepCtx::idempotency_token).
//!
//! Each compensation is retried with exponential backoff and full jitter
//! ([`crate::retry`]), 5 attempts by default (`compensation_retry(...)`).
//!
//! # Interrupted steps
//!
//! A step is *interrupted* when a run stopped inside it: the process was
//! killed or lost its lease after the log recorded the step `Started` and
//! before it recorded the result. The step may have acted (booked), and its
//! output is lost. Resumed, it runs again with the same idempotency token.
//! When the saga is compensated instead, on every path that abandons the
//! step ([`Saga::abort`], [`recover`] with `compensate_after`, a resume or a
//! lease takeover whose re-run of the step fails), **its own compensation
//! runs first**, whatever `side_effects` says, with `output = None` and the
//! same [`idempotency_token`](StepCtx::idempotency_token) the interrupted
//! attempt sent. So a compensation given `None` must undo by that token
//! ("cancel the booking made with key T") and succeed when nothing was made
//! with it; ideally the downstream then also refuses a late request with
//! that key.
//!
//! # The log, resume and the lease
//!
//! Every transition is written to the [`SagaLog`] before the next action
//! starts ([`DynamoDbSagaLog`] in Lambda, [`MemorySagaLog`] locally), so a
//! run killed at any point continues from the log when the saga is run
//! again with the same id: completed steps are not re-run (their outputs
//! come from the log), an interrupted step or compensation runs again with
//! the same idempotency token, and a finished saga returns its recorded
//! outcome. Writes are coalesced: N + 1 writes for a successful saga of N
//! steps.
//!
//! A run holds a lease on the saga (owner = the Lambda request id, expiry =
//! the invocation's deadline); a concurrent run of the same id gets
//! [`SagaError::InProgress`]. Before each step the remaining time is
//! compared with the step's budget (`budget = "1s"` by default): when it
//! is short, the saga checkpoints and returns [`SagaError::Suspended`]
//! instead of being killed mid-step. [`recover`] (for a scheduled function)
//! continues sagas that made no progress for a while.
//!
//! # Logs
//!
//! Every transition is logged as one structured line (`message` =
//! `saga transition`) with `saga_id`, `saga`, `step`, `event`
//! (`saga_started`, `step_started`, `step_done`, `step_failed`,
//! `compensation_started`, `compensation_done`, `compensation_failed`,
//! `saga_committed`, `saga_rolled_back`, `saga_compensation_failed`,
//! `saga_suspended`, …) and `correlation_id`.
//!
//! # ASL definitions
//!
//! [`Saga::from_asl`] loads a subset of the Step Functions language; see
//! [`asl`].
// `SagaError` carries the recorded causes by value (what the log holds),
// so it is larger than clippy's default; sagas run a few times per
// invocation, never in a hot loop.
#![allow(clippy::result_large_err)]

pub mod asl;
mod config;
mod definition;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod error;
mod executor;
mod log;
mod memory;
mod recover;
#[allow(clippy::module_inception)]
mod saga;
mod step;

pub(crate) use config::STORE;
pub use config::{TABLE_ENV, log_from_env, set_default_log};
#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoDbSagaLog, table_spec};
pub use error::{FailedCompensation, SagaError, StepError};
pub use executor::DEFAULT_LEASE;
pub use log::{ActionState, CompensationRecord, Lease, SagaLog, SagaRecord, SagaStatus, StepRecord};
pub use memory::MemorySagaLog;
pub use recover::{RecoverOptions, RecoverReport, Recoverable, recover};
pub use saga::Saga;
pub use step::{RetryRule, Step, StepCtx, StepOptions};

/// Makes an `async fn(&StepCtx, I) -> Result<O, E>` a saga [`Step`].
///
/// The function becomes a value of the same name that implements [`Step`]
/// (pass it to [`Saga::step`]); its body stays callable as
/// `name.call(&ctx, input).await` (tests).
///
/// ```
/// use halo::saga::StepCtx;
///
/// #[halo::saga_step(
///     compensate = release_seat,
///     retry(attempts = 3, initial_delay = "50ms", max_delay = "1s"),
///     compensation_retry(attempts = 8),
///     side_effects = true,
///     budget = "2s",
/// )]
/// async fn reserve_seat(ctx: &StepCtx, flight: String) -> Result<u32, halo::Error> {
///     Ok(ctx.attempt())
/// }
///
/// async fn release_seat(_ctx: &StepCtx, _flight: String, _seat: Option<u32>) -> Result<(), halo::Error> {
///     Ok(())
/// }
/// # let _ = reserve_seat;
/// ```
///
/// # Arguments
///
/// - `compensate = path`: an `async fn(&StepCtx, I, Option<O>) -> Result<(), E2>`
///   (`E2:` [`IntoError`](crate::IntoError)) undoing the step; checked at
///   compile time against the step's `I` and `O`. Without it the step is
///   not compensated (read-only steps).
/// - `retry(attempts = N, initial_delay = "100ms", max_delay = "5s",
///   multiplier = 2.0, jitter = true)`: the step's retries
///   ([`crate::retry::Backoff`]; `attempts` counts the first one and is
///   required, the rest default to the values shown); none by default.
/// - `compensation_retry(...)`: the same for the compensation (default 5
///   attempts, 100 ms doubling, full jitter).
/// - `side_effects = true`: a failed attempt may have had an effect, so
///   the step's own compensation runs too when it fails (default `false`).
///   An *interrupted* step (a crash or a lost lease while it ran) is always
///   treated so when the saga is compensated.
/// - `budget = "2s"`: the time the step needs; with less left before the
///   Lambda deadline the saga suspends (default `"1s"`).
///
/// Durations are strings with a unit (`ms`, `s`, `m`, `h`, `d`); each has
/// an alias in whole milliseconds: `budget_ms = 2000`, `initial_delay_ms`,
/// `max_delay_ms` (give one form, not both). `attempts` must fit a `u32`.
///
/// # A compensation without output
///
/// The compensation gets `None` when the step failed with
/// `side_effects = true`, or was interrupted and the saga is compensated
/// (see [Interrupted steps](self#interrupted-steps)): the step may have
/// acted, and its output is unknown. Undo by
/// [`ctx.idempotency_token()`](StepCtx::idempotency_token), the same token
/// the step sent downstream, and return `Ok` when nothing was made with it:
///
/// ```
/// use halo::saga::StepCtx;
///
/// # struct Hotels;
/// # impl Hotels {
/// #     async fn book(&self, _key: &str) -> Result<String, halo::Error> { Ok("h-1".into()) }
/// #     async fn cancel(&self, _id: &str) -> Result<(), halo::Error> { Ok(()) }
/// #     async fn cancel_by_key(&self, _key: &str) -> Result<(), halo::Error> { Ok(()) }
/// # }
/// # static HOTELS: Hotels = Hotels;
/// #[halo::saga_step(compensate = cancel_hotel)]
/// async fn book_hotel(ctx: &StepCtx, city: String) -> Result<String, halo::Error> {
///     HOTELS.book(&ctx.idempotency_token()).await // the token is the booking's idempotency key
/// }
///
/// async fn cancel_hotel(ctx: &StepCtx, _city: String, booking: Option<String>) -> Result<(), halo::Error> {
///     match booking {
///         Some(id) => HOTELS.cancel(&id).await,
///         None => HOTELS.cancel_by_key(&ctx.idempotency_token()).await, // whatever that key booked, if anything
///     }
/// }
/// # let _ = book_hotel;
/// ```
///
/// # Errors at compile time
///
/// A non-`async` fn, `self`, generics, other than 2 parameters, a return
/// type other than `Result<O, E>`, an unknown or repeated argument (also
/// inside `retry(...)`), a duration without a unit, a number that does not
/// fit, a missing compensation or one whose signature does not fit: each is
/// an error on the offending token. With an argument error the step is
/// still defined (with default options), so the sagas using it compile and
/// the one error shown is the argument's.
pub use halo_macros::saga_step;
