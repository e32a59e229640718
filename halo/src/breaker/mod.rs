//! Circuit breakers (closed, open, half-open) whose state is shared by
//! every container of a function through DynamoDB.
//!
//! A breaker guards the calls to one downstream. **Closed**, calls flow
//! and failures are counted (what counts is the [`Policy`]'s classifier:
//! timeouts, connect errors, 5xx and 429 by default; other 4xx do not).
//! It **trips** on N consecutive failures or on a failure rate over a
//! sliding window (with a minimum number of calls). **Open**, calls fail at
//! once with `CircuitOpen` (503, `Retry-After`) without touching the
//! downstream, for an open time that doubles (with jitter, up to a cap) on
//! repeated trips. Then **half-open** admits at most K probe calls across
//! the fleet; M successes close it, a failure opens it again.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use halo::breaker::{BreakerState, CircuitBreaker, Policy};
//!
//! let payments = CircuitBreaker::new("payments", Policy::default().consecutive_failures(2));
//! for _ in 0..2 {
//!     let _ = payments.call(async { Err::<(), _>(halo::Error::upstream("503 from payments")) }).await;
//! }
//! assert_eq!(payments.state(), BreakerState::Open);
//! let err = payments.call(async { Ok::<_, halo::Error>("never runs") }).await.unwrap_err();
//! assert_eq!((err.status(), err.code()), (503, "CircuitOpen"));
//! assert!(err.retry_after().is_some());
//! # });
//! ```
//!
//! # Shared state
//!
//! [`CircuitBreaker::shared`] keeps one record per breaker in a
//! [`BreakerStore`] ([`DynamoDbBreakerStore`], [`MemoryBreakerStore`]).
//! The call path never waits on it: a background task
//! ([`CircuitBreaker::sync`], every [`Policy::refresh_every`], 2 s by
//! default) publishes this container's transitions with a write
//! conditional on the record's version (two containers tripping at once
//! make one transition), adopts the others', moves an expired open state
//! to half-open and leases half-open probe slots through a conditional
//! write, so at most K probes run fleet-wide. Reads per container are
//! bounded by the refresh interval, not by the call rate. If the store is
//! unreachable the breaker keeps working on its local state, logs it once
//! per interval and reconciles when the store is back: a breaker never
//! blocks calls because its own store is down.
//!
//! Every transition is logged (`breaker`, `from`, `to`, `reason`, and the
//! invocation's `correlation_id`).
//!
//! [`probe`] is a scheduled health check: a 5xx or a timeout is
//! unhealthy.

mod circuit;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod env;
mod fallback;
mod memory;
mod policy;
#[cfg(feature = "http-client")]
mod probe;
mod state;
mod store;

pub use circuit::CircuitBreaker;
#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoDbBreakerStore, table_spec};
pub use env::{TABLE_ENV, from_env};
pub use fallback::{FallbackReason, run_fallback};
pub use memory::MemoryBreakerStore;
pub use policy::{Classifier, Policy, is_downstream_failure};
#[cfg(feature = "http-client")]
pub use probe::{Health, probe};
pub use state::{Admission, BreakerState, Transition};
pub use store::{BreakerStore, SharedState};
