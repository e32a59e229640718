//! What kind of event an invocation received, decided once.
//!
//! [`Invocation::new`](crate::Invocation::new) scans the event's JSON once:
//! the scan tells the [`EventSource`] (API Gateway REST or HTTP API, ALB,
//! Function URL, SQS, SNS, EventBridge, Kinesis, DynamoDB Streams, direct)
//! and picks up the few fields correlation needs on the way, without
//! building a `serde_json::Value`. Every layer after it (correlation, the
//! HTTP response shape) reads the invocation's source instead of looking
//! at the event again.

pub(crate) mod fields;
mod scan;
mod source;

#[cfg(any(test, feature = "test-support"))]
pub(crate) use scan::detect;
#[cfg(test)]
pub(crate) use scan::scan_record;
pub(crate) use scan::{Scan, Signals, scan};
pub use source::EventSource;

/// The wire names halo reads from events and writes on outgoing calls: as
/// HTTP headers, SQS/SNS message attributes, fields of an EventBridge
/// `detail`, or top-level fields of a direct-invoke payload (listed in the
/// correlation guide; `correlation::propagate` writes them).
pub(crate) mod names {
    /// The correlation id.
    pub(crate) const CORRELATION_ID: &str = "x-correlation-id";
    /// The debug-sampling decision (`"true"` / `"false"`).
    pub(crate) const DEBUG: &str = "debug-log-enabled";
    /// The calling service's name.
    pub(crate) const USER_AGENT: &str = "x-user-agent";
    /// The X-Ray trace header of HTTP events, whose `Root` is a fallback
    /// correlation id.
    pub(crate) const TRACE: &str = "x-amzn-trace-id";
    /// The W3C trace context of the caller's span (read and written with
    /// tracing on, see [`crate::trace`]).
    pub(crate) const TRACEPARENT: &str = "traceparent";
}
