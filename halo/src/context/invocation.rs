//! What flows through halo's tower stack: one invocation.

use crate::Ctx;
use crate::event::{EventSource, Signals, scan};

/// One invocation: the event's JSON text, its source, and its context.
///
/// This is the request type of every service in halo's tower stack; the
/// response type is the raw JSON response (`Box<RawValue>`) and the error
/// type [`crate::Error`]. Making one scans the event once
/// ([`crate::event`]): its [`EventSource`] is decided there, with the
/// correlation fields it carries, and every layer reads them from here.
/// The text is not parsed beyond that scan: decoding it into the handler's
/// type validates it, so invalid JSON is an `InvalidEvent` error then.
#[derive(Debug)]
pub struct Invocation {
    payload: String,
    source: EventSource,
    signals: Signals,
    /// The invocation's context.
    pub ctx: Ctx,
}

impl Invocation {
    /// An invocation of the event `payload` (JSON text, as Lambda sent it)
    /// with `ctx`.
    ///
    /// ```
    /// use halo::event::EventSource;
    ///
    /// let inv = halo::Invocation::new(r#"{"Records":[{"eventSource":"aws:sqs"}]}"#, halo::Ctx::for_test());
    /// assert_eq!(inv.source(), EventSource::Sqs);
    /// assert_eq!(inv.payload(), r#"{"Records":[{"eventSource":"aws:sqs"}]}"#);
    /// ```
    pub fn new(payload: impl Into<String>, ctx: Ctx) -> Invocation {
        let payload = payload.into();
        let scanned = scan(&payload);
        Invocation { payload, source: scanned.source, signals: scanned.signals, ctx }
    }

    /// The event's JSON text.
    pub fn payload(&self) -> &str {
        &self.payload
    }

    /// Where the event came from, decided when the invocation was made.
    pub fn source(&self) -> EventSource {
        self.source
    }

    /// The caller's W3C trace context (`traceparent`), when the event
    /// carries one.
    #[cfg(feature = "otel")]
    pub(crate) fn traceparent(&self) -> Option<&str> {
        self.signals.traceparent.as_deref()
    }

    /// Adds an id the correlation id falls back to when the event carries
    /// none (after the event's own: its request id, its trace root).
    #[cfg(feature = "durable-execution")]
    pub(crate) fn add_fallback_id(&mut self, id: String) {
        self.signals.fallback_ids.push(id);
    }

    /// Continues the trace `traceparent` (W3C) when the event carries no
    /// trace context of its own.
    #[cfg(all(feature = "otel", feature = "durable-execution"))]
    pub(crate) fn continue_trace(&mut self, traceparent: String) {
        self.signals.traceparent.get_or_insert(traceparent);
    }

    /// The correlation fields the scan found (taken once, by the
    /// correlation layer).
    pub(crate) fn take_signals(&mut self) -> Signals {
        std::mem::take(&mut self.signals)
    }
}
