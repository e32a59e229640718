//! Turns a panic in the handler into an error; the container keeps serving.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::task::{Context as TaskContext, Poll};

use futures_util::FutureExt;

use crate::Invocation;
use crate::error::Error;
use crate::future::BoxFuture;

/// Catches a panic in the inner service (in `call` or while its future is
/// polled) and answers with an `Internal` error instead. The panic message
/// is kept as the error's internal cause (logged, never returned).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct CatchPanicLayer;

impl<S> tower::Layer<S> for CatchPanicLayer {
    type Service = CatchPanicService<S>;
    fn layer(&self, inner: S) -> CatchPanicService<S> {
        CatchPanicService { inner }
    }
}

/// The service of [`CatchPanicLayer`].
#[derive(Clone, Debug)]
pub(super) struct CatchPanicService<S> {
    inner: S,
}

impl<S, R> tower::Service<Invocation> for CatchPanicService<S>
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
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(inv))) {
            Ok(future) => Box::pin(catch(future)),
            Err(panic) => Box::pin(std::future::ready(Err(panic_error(panic)))),
        }
    }
}

async fn catch<R>(future: impl Future<Output = Result<R, Error>>) -> Result<R, Error> {
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(panic_error(panic)),
    }
}

fn panic_error(panic: Box<dyn Any + Send>) -> Error {
    crate::metrics::builtin::count(crate::metrics::builtin::INVOCATION_PANIC, None);
    Error::internal(format!("handler panicked: {}", crate::log::panic_message(panic.as_ref())))
}
