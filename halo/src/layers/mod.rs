//! halo's tower stack: one [`tower::Layer`] per concern.
//!
//! [`stack`] assembles them around a [`HandlerService`] in this order,
//! outermost first:
//!
//! 1. [`ContextLayer`]: makes the invocation's [`Ctx`](crate::Ctx) current
//!    (so every log line carries its ids);
//! 2. [`TraceLayer`]: the invocation's root span (a pass-through when
//!    tracing is off);
//! 3. [`MetricsLayer`]: writes the invocation's metrics out when it ends
//!    (a pass-through when metrics are off);
//! 4. [`CorrelationLayer`]: reads, validates or generates the correlation id
//!    and decides debug sampling;
//! 5. [`HttpResponseLayer`]: for HTTP events, turns errors into proxy
//!    responses with a JSON error body and adds `x-correlation-id`;
//! 6. [`ErrorLogLayer`]: logs a failed invocation with its internal cause
//!    (after writing out its held-back debug lines);
//! 7. [`TimeoutLayer`]: answers with a timeout before Lambda's deadline;
//! 8. [`CatchPanicLayer`]: turns a panic into an `Internal` error;
//! 9. the handler service: decode, call, encode.
//!
//! Each layer works on its own, so a custom stack can reuse them.

mod catch_panic;
mod context;
mod correlation;
mod correlation_header;
mod error_log;
mod http_response;
mod metrics;
mod timeout;
mod trace;

pub use catch_panic::{CatchPanicLayer, CatchPanicService};
pub use context::{ContextLayer, ContextService};
pub use correlation::{CorrelationLayer, CorrelationService};
#[cfg(feature = "axum")]
pub(crate) use error_log::log_error;
pub use error_log::{ErrorLogLayer, ErrorLogService};
pub use http_response::{HttpResponseLayer, HttpResponseService, error_response, proxy_response};
pub use metrics::{Flushing, MetricsLayer, MetricsService};
pub use timeout::{TimeoutLayer, TimeoutService};
pub use trace::{TraceLayer, TraceService, Traced};

pub(crate) use catch_panic::panic_message;
#[cfg(feature = "axum")]
pub(crate) use http_response::CorrelationHeaderWritten;

use serde_json::value::RawValue;
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;

use crate::error::Error;
use crate::handler::HandlerService;
use crate::invocation::Invocation;
use crate::options::Options;

/// halo's full stack as one cloneable service.
pub type InvocationService = BoxCloneSyncService<Invocation, Box<RawValue>, Error>;

/// Wraps `handler` in halo's layers (see the module docs for the order).
pub fn stack(handler: HandlerService, options: &Options) -> InvocationService {
    let service = ServiceBuilder::new()
        .layer(ContextLayer)
        .layer(TraceLayer)
        .layer(MetricsLayer::from_config(&options.metrics))
        .layer(CorrelationLayer::new(options.extractors.clone()).trusted_debug_sources(options.trusted_debug_sources))
        .layer(HttpResponseLayer)
        .layer(ErrorLogLayer)
        .layer(TimeoutLayer)
        .layer(CatchPanicLayer)
        .service(handler);
    BoxCloneSyncService::new(service)
}
