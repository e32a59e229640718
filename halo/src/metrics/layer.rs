//! Writes out each invocation's metrics when it ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use futures_util::future::Either;

use crate::Invocation;
use crate::metrics::{MetricsConfig, ResolvedMetrics};

/// Routes each invocation's metrics ([`crate::metrics`]) by its
/// configuration and writes them out when the invocation ends: after an
/// answer, an error, halo's timeout or a panic (the layers inside turn
/// those into errors), and also when the invocation is dropped unfinished.
/// With metrics off it adds nothing to the call.
#[derive(Clone, Debug)]
pub(crate) struct MetricsLayer {
    config: Arc<ResolvedMetrics>,
}

impl MetricsLayer {
    /// A layer writing metrics as `config` says.
    pub(crate) fn new(config: ResolvedMetrics) -> MetricsLayer {
        MetricsLayer { config: Arc::new(config) }
    }

    /// A layer for `config`, checked; a configuration that does not check
    /// (see [`MetricsConfig::resolve`]) turns metrics off, with an error
    /// line. [`run`](crate::run) checks it before init instead, and fails
    /// the init.
    pub(crate) fn from_config(config: &MetricsConfig) -> MetricsLayer {
        match config.resolve() {
            Ok(resolved) => MetricsLayer::new(resolved),
            Err(err) => {
                tracing::error!(error_cause = %err, "metrics are off: their configuration is invalid");
                MetricsLayer::new(ResolvedMetrics::turned_off())
            }
        }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;
    fn layer(&self, inner: S) -> MetricsService<S> {
        MetricsService { inner, config: Arc::clone(&self.config) }
    }
}

/// The service of [`MetricsLayer`].
#[derive(Clone, Debug)]
pub(crate) struct MetricsService<S> {
    inner: S,
    config: Arc<ResolvedMetrics>,
}

impl<S, R, E> tower::Service<Invocation> for MetricsService<S>
where
    S: tower::Service<Invocation, Response = R, Error = E>,
{
    type Response = R;
    type Error = E;
    type Future = Either<S::Future, Flushing<S::Future>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), E>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, inv: Invocation) -> Self::Future {
        if !self.config.enabled() {
            return Either::Left(self.inner.call(inv));
        }
        let ctx = inv.ctx.clone();
        crate::metrics::attach_shared(&ctx, Arc::clone(&self.config));
        let future = self.inner.call(inv);
        Either::Right(Flushing { inner: future, ctx: Some(ctx) })
    }
}

pin_project_lite::pin_project! {
    /// The invocation's future; its metrics are written out when it
    /// completes, or when it is dropped unfinished.
    pub struct Flushing<F> {
        #[pin]
        inner: F,
        ctx: Option<crate::Ctx>,
    }

    impl<F> PinnedDrop for Flushing<F> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(ctx) = this.project().ctx.take() {
                crate::metrics::flush(&ctx);
            }
        }
    }
}

impl<F: Future> Future for Flushing<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let Some(ctx) = this.ctx.take() {
            crate::metrics::flush(&ctx);
        }
        Poll::Ready(output)
    }
}
