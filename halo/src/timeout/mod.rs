#![doc = include_str!("../../docs/timeouts.md")]

mod layer;

pub(crate) use layer::TimeoutLayer;

use std::future::Future;
use std::time::Duration;

use crate::{Ctx, Error};

/// The default safety margin before the deadline.
pub(crate) const DEFAULT_MARGIN: Duration = crate::context::DEFAULT_TIMEOUT_MARGIN;

/// Lambda's longest timeout: no real invocation's deadline is further away.
pub(crate) const MAX_LAMBDA_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The variable holding the timeout, in milliseconds, that an invocation
/// gets when the Runtime API's deadline cannot be right (see the module
/// docs); unset, it is [`MAX_LAMBDA_TIMEOUT`].
pub(crate) const FALLBACK_TIMEOUT_ENV: &str = "HALO_TIMEOUT_MS";

/// How far ahead of the local clock a real deadline may be: Lambda's
/// longest timeout plus a minute for clock skew.
const LATEST_DEADLINE_AHEAD_MS: u64 = MAX_LAMBDA_TIMEOUT.as_millis() as u64 + 60_000;

/// The deadline (epoch milliseconds) of an invocation whose Runtime API
/// sent `sent_ms` at `now_ms`: `sent_ms` when it can be a real deadline,
/// otherwise `now_ms` plus `fallback` (logging one warning per process).
pub(crate) fn deadline_or_fallback(sent_ms: u64, now_ms: u64, fallback: Option<Duration>) -> u64 {
    if usable_deadline(sent_ms, now_ms) {
        return sent_ms;
    }
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            deadline_ms = sent_ms,
            fallback_timeout_ms = fallback.unwrap_or(MAX_LAMBDA_TIMEOUT).as_millis() as u64,
            "the Runtime API sent a deadline (Lambda-Runtime-Deadline-Ms) that is not a time in the next 15 minutes, \
             as cargo-lambda's emulator does: invocations get {FALLBACK_TIMEOUT_ENV} as their timeout, else 15 minutes"
        );
    });
    now_ms.saturating_add(fallback.unwrap_or(MAX_LAMBDA_TIMEOUT).as_millis() as u64)
}

/// Whether `sent_ms` can be a Lambda deadline at `now_ms`: in the future,
/// and no further than Lambda's longest timeout (plus clock skew).
fn usable_deadline(sent_ms: u64, now_ms: u64) -> bool {
    sent_ms > now_ms && sent_ms - now_ms <= LATEST_DEADLINE_AHEAD_MS
}

/// The timeout from [`FALLBACK_TIMEOUT_ENV`], if it is set to a number of
/// milliseconds above zero.
pub(crate) fn fallback_timeout_from_env() -> Option<Duration> {
    crate::platform::non_empty_var(FALLBACK_TIMEOUT_ENV)
        .and_then(|ms| ms.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

/// The margin from `HALO_TIMEOUT_MARGIN_MS`, else [`DEFAULT_MARGIN`].
pub(crate) fn margin_from_env() -> Duration {
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

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_765_000_000_000;

    #[test]
    fn a_real_deadline_is_kept() {
        for ahead in [1, 3_000, 900_000, 900_000 + 60_000] {
            assert_eq!(deadline_or_fallback(NOW + ahead, NOW, None), NOW + ahead, "{ahead} ms ahead");
        }
    }

    #[test]
    fn a_deadline_that_cannot_be_right_gets_the_fallback() {
        let past = NOW - 1;
        let absurd = NOW + 2 * 3_600_000;
        // 0, a deadline already past, cargo-lambda's duration, an epoch time hours ahead.
        for sent in [0, past, NOW, 600_000, absurd, u64::MAX] {
            assert_eq!(deadline_or_fallback(sent, NOW, None), NOW + 900_000, "{sent}: 15 minutes");
            let configured = Some(Duration::from_secs(3));
            assert_eq!(deadline_or_fallback(sent, NOW, configured), NOW + 3_000, "{sent}: the configured timeout");
        }
    }
}
