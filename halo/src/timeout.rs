//! Timeout management: the handler runs under the Lambda deadline minus a
//! safety margin, and outgoing calls get what is left of that budget.
//!
//! When the margin is reached, [`TimeoutLayer`](crate::layers::TimeoutLayer)
//! stops waiting on the handler, logs a timeout with the elapsed time and
//! answers with a `Timeout` error (HTTP 504 for HTTP events) before Lambda
//! kills the container, so the caller gets a clean answer with a trace id
//! and the container stays warm. The margin is `HALO_TIMEOUT_MARGIN_MS`
//! (default 200 ms), or per handler `#[halo::handler(timeout_margin = "500ms")]`.
//!
//! A handler that blocks its thread (CPU-bound loops, `std::thread::sleep`)
//! cannot be interrupted: keep such work in `spawn_blocking`.

use std::future::Future;
use std::time::Duration;

use crate::{Ctx, Error};

/// The default safety margin before the deadline.
pub const DEFAULT_MARGIN: Duration = Duration::from_millis(200);

/// The margin from `HALO_TIMEOUT_MARGIN_MS`, else [`DEFAULT_MARGIN`].
pub fn margin_from_env() -> Duration {
    std::env::var("HALO_TIMEOUT_MARGIN_MS")
        .ok()
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(DEFAULT_MARGIN)
}

/// The time an outgoing call may take: `requested`, capped by the current
/// invocation's budget (remaining time minus the margin). Outside an
/// invocation it is `requested`.
///
/// ```
/// use std::time::Duration;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ctx = halo::Ctx::builder("r").timeout(Duration::from_secs(1)).build();
/// let allowed = ctx.scope(async { halo::timeout::budget_for(Duration::from_secs(30)) }).await;
/// assert!(allowed <= Duration::from_millis(800));
/// # });
/// ```
pub fn budget_for(requested: Duration) -> Duration {
    Ctx::with_current(|ctx| match ctx {
        Some(ctx) => requested.min(ctx.budget()),
        None => requested,
    })
}

/// Runs `future` for at most [`budget_for`]`(requested)`; when that runs out
/// the future is dropped and a `Timeout` error returned.
///
/// ```
/// use std::time::Duration;
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let slow = tokio::time::sleep(Duration::from_secs(60));
/// let err = halo::timeout::within(Duration::from_millis(10), slow).await.unwrap_err();
/// assert_eq!(err.status(), 504);
/// # });
/// ```
pub async fn within<F: Future>(requested: Duration, future: F) -> Result<F::Output, Error> {
    let allowed = budget_for(requested);
    tokio::time::timeout(allowed, future).await.map_err(|_| {
        Error::timeout("a dependency did not answer in time").with_source(format!(
            "gave up after {} ms (requested {} ms)",
            allowed.as_millis(),
            requested.as_millis()
        ))
    })
}
