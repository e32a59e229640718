//! Stops waiting on the handler before Lambda's deadline.

use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use crate::BoxFuture;
use crate::error::Error;
use crate::invocation::Invocation;

/// Runs the inner service until the invocation's budget deadline (the
/// Lambda deadline minus [`Ctx::timeout_margin`](crate::Ctx::timeout_margin));
/// then drops it, logs `handler timed out` with `elapsed_ms`, and returns a
/// `Timeout` error (504).
#[derive(Clone, Copy, Debug, Default)]
pub struct TimeoutLayer;

impl<S> tower::Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;
    fn layer(&self, inner: S) -> TimeoutService<S> {
        TimeoutService { inner }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Clone, Debug)]
pub struct TimeoutService<S> {
    inner: S,
}

impl<S, R> tower::Service<Invocation> for TimeoutService<S>
where
    S: tower::Service<Invocation, Response = R, Error = Error>,
    S::Future: Send + 'static,
    R: Send + 'static,
{
    type Response = R;
    type Error = Error;
    type Future = BoxFuture<'static, Result<R, Error>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, inv: Invocation) -> Self::Future {
        let started = Instant::now();
        let deadline = inv.ctx.budget_deadline();
        let margin = inv.ctx.timeout_margin();
        let future = self.inner.call(inv);
        Box::pin(async move {
            match tokio::time::timeout_at(deadline.into(), future).await {
                Ok(result) => result,
                Err(_) => {
                    let elapsed_ms = started.elapsed().as_millis() as u64;
                    tracing::error!(elapsed_ms, margin_ms = margin.as_millis() as u64, "handler timed out");
                    crate::metrics::builtin::count(crate::metrics::builtin::INVOCATION_TIMEOUT, None);
                    Err(Error::timeout("the request timed out")
                        .with_source(format!("the handler ran {elapsed_ms} ms, past the deadline minus the margin")))
                }
            }
        })
    }
}
