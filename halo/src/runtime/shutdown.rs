//! Graceful shutdown of a Lambda runtime: on SIGTERM (sent when an
//! extension is registered, and when Lambda Managed Instances rotate an
//! execution environment) halo stops waiting for new invocations, lets the
//! ones in flight finish within [`Options::shutdown_grace`], logs one
//! `shutdown` line, writes out what is buffered (spans not yet exported,
//! metrics added outside any invocation; each invocation writes its own
//! metrics as it ends) and exits with status 0.
//!
//! [`Options::shutdown_grace`]: crate::Options::shutdown_grace

use std::future::Future;
use std::io::Write;
use std::pin::{Pin, pin};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How long in-flight invocations may take to finish after SIGTERM when
/// `HALO_SHUTDOWN_GRACE_MS` is not set.
pub(crate) const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// The variable that sets the shutdown grace period, in milliseconds.
pub(crate) const SHUTDOWN_GRACE_ENV: &str = "HALO_SHUTDOWN_GRACE_MS";

/// The grace period from `HALO_SHUTDOWN_GRACE_MS` (at most 10 s, the
/// longest Lambda waits), else [`DEFAULT_SHUTDOWN_GRACE`].
pub(crate) fn grace_from_env() -> Duration {
    crate::platform::non_empty_var(SHUTDOWN_GRACE_ENV)
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(DEFAULT_SHUTDOWN_GRACE, |ms| Duration::from_millis(ms.min(10_000)))
}

/// The invocations being served: counted from the moment the Runtime API
/// hands one over until its answer has been posted back.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    count: AtomicUsize,
    idle: Notify,
}

impl InFlight {
    /// Counts one invocation until the returned guard is dropped.
    pub(crate) fn enter(self: &Arc<Self>) -> InFlightGuard {
        self.count.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(Arc::clone(self))
    }

    pub(crate) fn count(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    /// Resolves once no invocation is in flight.
    async fn idle(&self) {
        loop {
            let mut notified = pin!(self.idle.notified());
            notified.as_mut().enable();
            if self.count() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// One invocation in flight (see [`InFlight::enter`]).
#[derive(Debug)]
pub(crate) struct InFlightGuard(Arc<InFlight>);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        if self.0.count.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

pin_project_lite::pin_project! {
    /// A future counted in flight until it completes or is dropped.
    pub(crate) struct Tracked<F> {
        #[pin]
        inner: F,
        guard: Option<InFlightGuard>,
    }
}

impl<F> Tracked<F> {
    pub(crate) fn new(inner: F, guard: InFlightGuard) -> Tracked<F> {
        Tracked { inner, guard: Some(guard) }
    }
}

impl<F: Future> Future for Tracked<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        this.guard.take();
        Poll::Ready(output)
    }
}

/// Drives `runtime` (the Runtime API loop) until it ends, with a task
/// beside it that waits for SIGTERM: then it lets the invocations in
/// flight finish (the loop keeps running) until none is left or `grace`
/// has passed, logs the `shutdown` line, flushes and ends the process with
/// status 0. The loop itself is not wrapped, so serving costs nothing more.
pub(crate) async fn serve_until_terminated<F, E>(runtime: F, in_flight: Arc<InFlight>, grace: Duration) -> ExitCode
where
    F: Future<Output = Result<(), E>>,
    E: std::fmt::Display,
{
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut terminate) => {
            tokio::spawn(async move {
                terminate.recv().await;
                drain(&in_flight, grace).await;
                std::process::exit(0);
            });
        }
        Err(err) => tracing::warn!(error_cause = %err, "cannot listen for SIGTERM: no graceful shutdown"),
    }
    match runtime.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error_cause = %err, "the Lambda runtime stopped");
            ExitCode::FAILURE
        }
    }
}

/// Waits for the invocations in flight (at most `grace`), then logs the
/// `shutdown` line and flushes.
async fn drain(in_flight: &InFlight, grace: Duration) {
    let signalled = Instant::now();
    let in_flight_at_signal = in_flight.count();
    let _ = tokio::time::timeout(grace, in_flight.idle()).await;
    let unfinished = in_flight.count();
    if unfinished > 0 {
        tracing::warn!(
            unfinished,
            grace_ms = grace.as_millis() as u64,
            "shutdown: invocations still running after the grace period are abandoned"
        );
    }
    tracing::info!(
        in_flight = in_flight_at_signal,
        finished = in_flight_at_signal.saturating_sub(unfinished),
        waited_ms = signalled.elapsed().as_millis() as u64,
        "shutdown"
    );
    crate::trace::flush().await;
    flush_buffered();
}

/// Writes out what the process holds back before it exits: metrics added
/// outside any invocation, then the standard streams.
fn flush_buffered() {
    crate::metrics::flush_container();
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_waits_for_every_guard() {
        let in_flight = Arc::new(InFlight::default());
        let (a, b) = (in_flight.enter(), in_flight.enter());
        assert_eq!(in_flight.count(), 2);
        drop(a);
        let waiting = tokio::time::timeout(Duration::from_millis(20), in_flight.idle()).await;
        assert!(waiting.is_err(), "one invocation is still in flight");
        drop(b);
        tokio::time::timeout(Duration::from_secs(1), in_flight.idle()).await.expect("idle once both are done");
    }

    #[tokio::test]
    async fn a_tracked_future_leaves_when_it_completes_or_is_dropped() {
        let in_flight = Arc::new(InFlight::default());
        let done = Tracked::new(async { 7 }, in_flight.enter());
        assert_eq!(in_flight.count(), 1);
        assert_eq!(done.await, 7);
        assert_eq!(in_flight.count(), 0);
        let dropped = Tracked::new(std::future::pending::<()>(), in_flight.enter());
        assert_eq!(in_flight.count(), 1);
        drop(dropped);
        assert_eq!(in_flight.count(), 0);
    }
}
