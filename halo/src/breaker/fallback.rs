//! Why a breaker's fallback runs: the fallback can tell an open circuit
//! (the call did not run) from a failure it counted (the call ran).

use std::future::Future;
use std::time::Duration;

use crate::Error;

/// Why a fallback runs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FallbackReason {
    /// The circuit is open: the call did not run. The downstream may be
    /// tried again after `retry_after`.
    CircuitOpen {
        /// When the circuit lets a probe call through.
        retry_after: Option<Duration>,
    },
    /// The call ran and failed in a way the breaker counts.
    Failure {
        /// The error's HTTP status (e.g. 502, 504).
        status: u16,
        /// The error's stable code (e.g. `UpstreamError`, `Timeout`).
        code: String,
    },
}

tokio::task_local! {
    static REASON: FallbackReason;
}

impl FallbackReason {
    /// The reason of a fallback for `err` (a `CircuitOpen` refusal or a
    /// counted failure).
    ///
    /// ```
    /// use halo::breaker::FallbackReason;
    ///
    /// let reason = FallbackReason::of(&halo::Error::upstream("inventory answered 503"));
    /// assert_eq!(reason, FallbackReason::Failure { status: 502, code: "UpstreamError".into() });
    /// ```
    pub fn of(err: &Error) -> FallbackReason {
        if err.code() == "CircuitOpen" {
            FallbackReason::CircuitOpen { retry_after: err.retry_after() }
        } else {
            FallbackReason::Failure { status: err.status(), code: err.code().to_owned() }
        }
    }

    /// The reason the running fallback was called: inside a fallback run
    /// by `#[halo::circuit_breaker(fallback = ...)]` (or
    /// [`run_fallback`]), else `None`.
    ///
    /// ```
    /// use halo::breaker::{FallbackReason, run_fallback};
    ///
    /// async fn stock_unknown() -> Result<i64, halo::Error> {
    ///     match FallbackReason::current() {
    ///         Some(FallbackReason::CircuitOpen { .. }) => Ok(-1),
    ///         _ => Ok(-2),
    ///     }
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let open = FallbackReason::CircuitOpen { retry_after: None };
    /// assert_eq!(run_fallback(open, stock_unknown()).await.unwrap(), -1);
    /// assert_eq!(FallbackReason::current(), None);
    /// # });
    /// ```
    pub fn current() -> Option<FallbackReason> {
        REASON.try_with(Clone::clone).ok()
    }
}

/// Runs `fallback` with `reason` as [`FallbackReason::current`].
pub async fn run_fallback<F: Future>(reason: FallbackReason, fallback: F) -> F::Output {
    REASON.scope(reason, fallback).await
}
