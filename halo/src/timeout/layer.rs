//! Stops waiting on the handler before Lambda's deadline.

use std::future::Future;
use std::task::{Context as TaskContext, Poll};
use std::time::Instant;

use crate::Invocation;
use crate::error::Error;
use crate::future::BoxFuture;

/// Runs the inner service until the invocation's budget deadline (the
/// Lambda deadline minus [`Ctx::timeout_margin`](crate::Ctx::timeout_margin));
/// then drops it, logs `handler timed out` with `elapsed_ms`, and returns a
/// `Timeout` error (504).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimeoutLayer;

impl<S> tower::Layer<S> for TimeoutLayer {
    type Service = TimeoutService<S>;
    fn layer(&self, inner: S) -> TimeoutService<S> {
        TimeoutService { inner }
    }
}

/// The service of [`TimeoutLayer`].
#[derive(Clone, Debug)]
pub(crate) struct TimeoutService<S> {
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
            let mut future = std::pin::pin!(future);
            // The first poll needs no timer: a handler that does not wait
            // on anything is done here, and a timer costs more than the
            // rest of this layer. Only a handler that waits gets one (the
            // deadline is absolute, so starting it later changes nothing;
            // like tokio's `timeout`, the handler is always polled first).
            if let Poll::Ready(result) = std::future::poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
                return result;
            }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tower::{Layer, Service, ServiceExt};

    use super::*;
    use crate::Ctx;

    /// A service answering after `wait` (at once when zero), seen through
    /// the timeout layer with a budget of `budget`.
    async fn answer_after(wait: Duration, budget: Duration) -> Result<u16, Error> {
        let inner = tower::service_fn(move |_inv: Invocation| async move {
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            Ok::<u16, Error>(200)
        });
        let deadline_ms = crate::platform::system_clock().now_ms() + budget.as_millis() as u64;
        let ctx = Ctx::builder("r-1").deadline_epoch_ms(deadline_ms).timeout_margin(Duration::ZERO).build();
        let mut service = TimeoutLayer.layer(inner);
        service.ready().await?.call(Invocation::new("{}", ctx)).await
    }

    #[tokio::test(start_paused = true)]
    async fn a_handler_that_does_not_wait_answers_even_at_the_deadline() {
        // Polled before any timer, as tokio's `timeout` polls it first.
        assert_eq!(answer_after(Duration::ZERO, Duration::ZERO).await.unwrap(), 200);
        assert_eq!(answer_after(Duration::ZERO, Duration::from_secs(1)).await.unwrap(), 200);
    }

    #[tokio::test(start_paused = true)]
    async fn a_handler_that_waits_within_the_budget_answers() {
        assert_eq!(answer_after(Duration::from_millis(900), Duration::from_secs(1)).await.unwrap(), 200);
    }

    #[tokio::test(start_paused = true)]
    async fn a_handler_that_waits_past_the_budget_times_out() {
        let err = answer_after(Duration::from_secs(5), Duration::from_secs(1)).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (504, "Timeout"));
    }
}
