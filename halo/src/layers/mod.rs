//! halo's tower stack: one [`tower::Layer`] per concern.
//!
//! [`stack`] assembles them around a [`HandlerService`] in this order,
//! outermost first:
//!
//! 1. [`ContextLayer`]: makes the invocation's [`Ctx`](crate::Ctx) current
//!    (so every log line carries its ids);
//! 2. [`ErrorLogLayer`]: logs a failed invocation with its internal cause;
//! 3. [`CatchPanicLayer`]: turns a panic into an `Internal` error;
//! 4. the handler service: decode, call, encode.
//!
//! Each layer works on its own, so a custom stack can reuse them.

mod catch_panic;
mod context;
mod error_log;

pub(crate) use catch_panic::panic_message;
pub use catch_panic::{CatchPanicLayer, CatchPanicService};
pub use context::{ContextLayer, ContextService};
pub use error_log::{ErrorLogLayer, ErrorLogService};

use serde_json::value::RawValue;
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;

use crate::error::Error;
use crate::handler::HandlerService;
use crate::invocation::Invocation;

/// halo's full stack as one cloneable service.
pub type InvocationService = BoxCloneSyncService<Invocation, Box<RawValue>, Error>;

/// Wraps `handler` in halo's layers (see the module docs for the order).
pub fn stack(handler: HandlerService) -> InvocationService {
    let service =
        ServiceBuilder::new().layer(ContextLayer).layer(ErrorLogLayer).layer(CatchPanicLayer).service(handler);
    BoxCloneSyncService::new(service)
}
