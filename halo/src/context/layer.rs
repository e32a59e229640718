//! Makes the invocation's context current for the whole call.

use std::task::{Context as TaskContext, Poll};

use crate::Invocation;

/// Makes the invocation's [`Ctx`](crate::Ctx) the current one
/// ([`Ctx::current`](crate::Ctx::current)) while the inner service runs,
/// including the synchronous part of its `call`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ContextLayer;

impl<S> tower::Layer<S> for ContextLayer {
    type Service = ContextService<S>;
    fn layer(&self, inner: S) -> ContextService<S> {
        ContextService { inner }
    }
}

/// The service of [`ContextLayer`].
#[derive(Clone, Debug)]
pub(crate) struct ContextService<S> {
    inner: S,
}

impl<S> tower::Service<Invocation> for ContextService<S>
where
    S: tower::Service<Invocation>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tokio::task::futures::TaskLocalFuture<crate::Ctx, S::Future>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, inv: Invocation) -> Self::Future {
        let ctx = inv.ctx.clone();
        let future = crate::context::sync_scope(ctx.clone(), || self.inner.call(inv));
        crate::context::scope(ctx, future)
    }
}
