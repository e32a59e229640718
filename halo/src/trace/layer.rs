//! Gives each invocation its root span (when tracing is on).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use futures_util::future::Either;
use serde_json::value::RawValue;
use tracing::instrument::Instrumented;
use tracing::{Instrument as _, Span};

use crate::Invocation;
use crate::error::Error;

/// Runs each invocation inside its root span ([`crate::trace`]): the FaaS
/// attributes, the caller's trace context as parent, and the outcome (an
/// error's code, an HTTP answer's status) recorded at the end. With
/// tracing off it adds nothing to the call.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TraceLayer;

impl<S> tower::Layer<S> for TraceLayer {
    type Service = TraceService<S>;
    fn layer(&self, inner: S) -> TraceService<S> {
        TraceService { inner }
    }
}

/// The service of [`TraceLayer`].
#[derive(Clone, Debug)]
pub(crate) struct TraceService<S> {
    inner: S,
}

impl<S> tower::Service<Invocation> for TraceService<S>
where
    S: tower::Service<Invocation, Response = Box<RawValue>, Error = Error>,
{
    type Response = Box<RawValue>;
    type Error = Error;
    type Future = Either<S::Future, Traced<Instrumented<S::Future>>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, inv: Invocation) -> Self::Future {
        if !crate::trace::enabled() {
            return Either::Left(self.inner.call(inv));
        }
        let span = crate::trace::invocation_span(&inv);
        let future = span.in_scope(|| self.inner.call(inv));
        Either::Right(Traced { inner: future.instrument(span.clone()), span })
    }
}

pin_project_lite::pin_project! {
    /// An invocation's future in its span; the outcome is recorded on the
    /// span when it completes.
    pub struct Traced<F> {
        #[pin]
        inner: F,
        span: Span,
    }
}

impl<F> Future for Traced<F>
where
    F: Future<Output = Result<Box<RawValue>, Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<F::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        let outcome = match &output {
            Ok(response) => Ok(http_status(response.get())),
            Err(err) => Err(err.code()),
        };
        crate::trace::record_outcome(this.span, outcome);
        Poll::Ready(output)
    }
}

/// The status of a proxy response (`{"statusCode":404,…}`, as halo writes
/// them), if the answer is one.
fn http_status(response: &str) -> Option<u16> {
    let rest = response.strip_prefix("{\"statusCode\":")?;
    rest.get(..3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_status_of_a_proxy_response_is_read_from_its_start() {
        assert_eq!(super::http_status(r#"{"statusCode":503,"headers":{}}"#), Some(503));
        assert_eq!(super::http_status(r#"{"ok":true}"#), None);
        assert_eq!(super::http_status(r#"{"statusCode":2"#), None);
    }
}
