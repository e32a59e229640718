//! Logs a failed invocation with its internal cause.

use std::future::Future;
use std::task::{Context as TaskContext, Poll};

use crate::Invocation;
use crate::error::Error;
use crate::future::BoxFuture;

/// Logs every error the inner service returns: `ERROR` for 5xx kinds,
/// `WARN` for 4xx kinds, with `error_code`, `error_message` and the internal
/// cause chain (`error_cause`), which never goes into a response. Before
/// that, it writes out the debug lines the invocation held back
/// ([`flush_debug_buffer`](crate::log::flush_debug_buffer)).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct ErrorLogLayer;

impl<S> tower::Layer<S> for ErrorLogLayer {
    type Service = ErrorLogService<S>;
    fn layer(&self, inner: S) -> ErrorLogService<S> {
        ErrorLogService { inner }
    }
}

/// The service of [`ErrorLogLayer`].
#[derive(Clone, Debug)]
pub(super) struct ErrorLogService<S> {
    inner: S,
}

impl<S, R> tower::Service<Invocation> for ErrorLogService<S>
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
        Box::pin(log_failure(self.inner.call(inv)))
    }
}

async fn log_failure<R>(future: impl Future<Output = Result<R, Error>>) -> Result<R, Error> {
    let result = future.await;
    if let Err(err) = &result {
        crate::log::flush_debug_buffer();
        log_error(err);
    }
    result
}

/// Logs `err` as the outcome of the current invocation.
pub(crate) fn log_error(err: &Error) {
    let chain = err.source_chain();
    let cause = (!chain.is_empty()).then_some(chain.as_str());
    if err.status() >= 500 {
        tracing::error!(
            error_code = err.code(),
            error_message = err.message(),
            error_cause = cause,
            "invocation failed"
        );
    } else {
        tracing::warn!(
            error_code = err.code(),
            error_message = err.message(),
            error_cause = cause,
            "invocation failed"
        );
    }
}
