//! Decides the invocation's correlation before anything else runs.

use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use crate::Invocation;
use crate::correlation::{self, Extractor, Incoming, TrustedSources};

/// Reads the correlation id, debug-sampling decision and caller from the
/// event (custom [`Extractor`]s first, then halo's own), validates and
/// completes them ([`correlation::decide`]) and stores the result in the
/// invocation's [`Ctx`](crate::Ctx), so every later log line carries
/// `correlation_id`. A rejected incoming id is logged as a warning (with its
/// length, never its content).
///
/// An incoming `debug-log-enabled` flag is honoured only from the
/// [`TrustedSources`] (by default not from HTTP events).
#[derive(Clone, Default)]
pub(crate) struct CorrelationLayer {
    extractors: Arc<[Arc<dyn Extractor>]>,
    trusted: TrustedSources,
}

impl std::fmt::Debug for CorrelationLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorrelationLayer")
            .field("extractors", &self.extractors.len())
            .field("trusted", &self.trusted)
            .finish()
    }
}

impl CorrelationLayer {
    /// A layer that tries `extractors` (in order) before halo's own.
    pub(crate) fn new(extractors: Vec<Arc<dyn Extractor>>) -> CorrelationLayer {
        CorrelationLayer { extractors: extractors.into(), trusted: TrustedSources::default() }
    }

    /// The sources whose `debug-log-enabled` flag is honoured (default:
    /// [`TrustedSources::default`]).
    pub(crate) fn trusted_debug_sources(mut self, trusted: TrustedSources) -> CorrelationLayer {
        self.trusted = trusted;
        self
    }
}

impl<S> tower::Layer<S> for CorrelationLayer {
    type Service = CorrelationService<S>;
    fn layer(&self, inner: S) -> CorrelationService<S> {
        CorrelationService { inner, extractors: Arc::clone(&self.extractors), trusted: self.trusted }
    }
}

/// The service of [`CorrelationLayer`].
#[derive(Clone)]
pub(crate) struct CorrelationService<S> {
    inner: S,
    extractors: Arc<[Arc<dyn Extractor>]>,
    trusted: TrustedSources,
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

    fn call(&mut self, mut inv: Invocation) -> S::Future {
        let source = inv.source();
        let signals = inv.take_signals();
        let mut incoming = match self.extractors.iter().find_map(|extractor| extractor.extract(inv.payload())) {
            // The source is the invocation's, whatever an extractor says.
            Some(found) => Incoming { source, ..found },
            None => Incoming {
                source,
                correlation_id: signals.correlation_id,
                debug: signals.debug,
                caller: signals.caller,
                fallback_ids: signals.fallback_ids,
            },
        };
        if !self.trusted.contains(incoming.source) {
            incoming.debug = None;
        }
        inv.ctx.set_trusted_debug_sources(self.trusted);
        let sent_len = incoming.correlation_id.as_ref().map(String::len);
        let (decided, rejected) = correlation::decide(incoming, super::sampling::debug_sample_rate());
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
