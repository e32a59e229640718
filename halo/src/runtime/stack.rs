//! halo's tower stack: one layer per concern (context, trace, metrics,
//! correlation, HTTP response, error log, timeout, panic), assembled by
//! [`stack`] around a [`HandlerService`]. What each does for a handler is
//! described with `#[halo::handler]` ("What runs around your handler").
//!
//! A service author's own tower layers ([`Options::layer`]) run between
//! the timeout and the panic guard: the invocation's context, correlation
//! id and deadline are set, and a panic inside them is caught.

use serde_json::value::RawValue;
use tower::util::BoxCloneSyncService;
use tower::{Layer, ServiceBuilder};

use super::catch_panic::CatchPanicLayer;
use super::error_log::ErrorLogLayer;
use super::handler::HandlerService;
use super::http_response::HttpResponseLayer;
use crate::context::ContextLayer;
use crate::correlation::CorrelationLayer;
use crate::metrics::MetricsLayer;
use crate::timeout::TimeoutLayer;
use crate::trace::TraceLayer;
use crate::{Error, Invocation, Options};

/// One invocation's service, as halo's layers and a service author's own
/// ([`Options::layer`]) see it: an [`Invocation`] in, the response's JSON
/// (or an [`Error`]) out.
pub type InvocationService = BoxCloneSyncService<Invocation, Box<RawValue>, Error>;

/// Wraps `handler` in halo's layers (see the module docs for the order).
#[cfg_attr(not(feature = "test-support"), allow(unreachable_pub))]
pub fn stack(handler: HandlerService, options: &Options) -> InvocationService {
    stack_of(handler, options, Guard::Deadline)
}

/// Whether the stack stops the handler at the invocation's deadline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Stop it before Lambda's deadline with a `Timeout` error.
    Deadline,
    /// Let it run (a durable execution's handler: an invocation cut short
    /// by its deadline is invoked again by the service, where a `Timeout`
    /// error would fail the whole execution).
    #[cfg_attr(not(feature = "durable-execution"), allow(dead_code))]
    None,
}

/// [`stack`], with or without the deadline guard.
pub(crate) fn stack_of(handler: HandlerService, options: &Options, guard: Guard) -> InvocationService {
    let timeout = (guard == Guard::Deadline).then_some(TimeoutLayer);
    let halo_layers = ServiceBuilder::new()
        .layer(ContextLayer)
        .layer(TraceLayer)
        .layer(MetricsLayer::from_config(&options.metrics))
        .layer(CorrelationLayer::new(options.extractors.clone()).trusted_debug_sources(options.trusted_debug_sources))
        .layer(HttpResponseLayer)
        .layer(ErrorLogLayer)
        .option_layer(timeout);
    let guarded = CatchPanicLayer.layer(handler);
    if options.layers.is_empty() {
        // No layer of the author's: one box, as before `Options::layer`.
        return BoxCloneSyncService::new(halo_layers.service(guarded));
    }
    let mut inner = BoxCloneSyncService::new(guarded);
    for layer in options.layers.iter().rev() {
        inner = layer(inner);
    }
    BoxCloneSyncService::new(halo_layers.service(inner))
}
