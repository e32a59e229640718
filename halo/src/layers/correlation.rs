//! Decides the invocation's correlation before anything else runs.

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::correlation::{self, Extractor};
use crate::invocation::Invocation;

/// Reads the correlation id, debug-sampling decision and caller from the
/// event (custom [`Extractor`]s first, then halo's own), validates and
/// completes them ([`correlation::decide`]) and stores the result in the
/// invocation's [`Ctx`](crate::Ctx), so every later log line carries
/// `correlation_id`. A rejected incoming id is logged as a warning (with its
/// length, never its content).
#[derive(Clone, Default)]
pub struct CorrelationLayer {
    extractors: Arc<[Arc<dyn Extractor>]>,
}

impl std::fmt::Debug for CorrelationLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorrelationLayer").field("extractors", &self.extractors.len()).finish()
    }
}

impl CorrelationLayer {
    /// A layer that tries `extractors` (in order) before halo's own.
    pub fn new(extractors: Vec<Arc<dyn Extractor>>) -> CorrelationLayer {
        CorrelationLayer { extractors: extractors.into() }
    }
}

impl<S> tower::Layer<S> for CorrelationLayer {
    type Service = CorrelationService<S>;
    fn layer(&self, inner: S) -> CorrelationService<S> {
        CorrelationService { inner, extractors: Arc::clone(&self.extractors) }
    }
}

/// The service of [`CorrelationLayer`].
#[derive(Clone)]
pub struct CorrelationService<S> {
    inner: S,
    extractors: Arc<[Arc<dyn Extractor>]>,
}

impl<S> std::fmt::Debug for CorrelationService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CorrelationService")
    }
}

impl<S> tower::Service<Invocation> for CorrelationService<S>
where
    S: tower::Service<Invocation>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, inv: Invocation) -> S::Future {
        let incoming = self
            .extractors
            .iter()
            .find_map(|extractor| extractor.extract(&inv.payload))
            .unwrap_or_else(|| correlation::extract(&inv.payload));
        let sent_len = incoming.correlation_id.as_ref().map(String::len);
        let (decided, rejected) = correlation::decide(incoming, crate::log::debug_sample_rate());
        inv.ctx.set_correlation(decided);
        if let Some(reason) = rejected {
            tracing::warn!(
                rejected_length = sent_len,
                reason = reason.reason(),
                "the incoming correlation id was replaced by a new one"
            );
        }
        self.inner.call(inv)
    }
}
