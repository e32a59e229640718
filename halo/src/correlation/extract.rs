//! Correlation data of an event, from the event scan.

#[cfg(test)]
use serde_json::value::RawValue;

use super::Incoming;
#[cfg(test)]
use crate::event::scan_record;
use crate::event::{Scan, scan};

/// Reads the correlation id, the debug-sampling decision and the caller from
/// an event's JSON, whatever its source:
///
/// | source | where |
/// |---|---|
/// | API Gateway REST/HTTP, ALB, function URL | headers `x-correlation-id`, `debug-log-enabled`, `x-user-agent` (any case, single or multi-value); fallback ids: the request id, then the `Root` of `x-amzn-trace-id` |
/// | SQS, Kinesis, DynamoDB Streams | nothing: each record carries its own id, read per record; the invocation gets its own |
/// | SNS (one record per invocation) | message attributes of the same names (`Value`) |
/// | EventBridge | fields of `detail` |
/// | direct invoke | top-level fields |
///
/// The event is scanned once, descending only into the objects that matter
/// (an [`Invocation`](crate::Invocation) does this scan when it is made, and
/// the correlation layer uses its result). Nothing here fails: missing or
/// oddly shaped data is just absent.
///
/// ```
/// use halo::correlation::extract;
/// use halo::event::EventSource;
///
/// let incoming = extract(r#"{"detail-type":"OrderPlaced","source":"shop","detail":{"x-correlation-id":"c-1","debug-log-enabled":true}}"#);
/// assert_eq!(incoming.source, EventSource::EventBridge);
/// assert_eq!(incoming.correlation_id.as_deref(), Some("c-1"));
/// assert_eq!(incoming.debug, Some(true));
/// ```
pub fn extract(event: &str) -> Incoming {
    Incoming::from(scan(event))
}

#[cfg(test)]
/// Reads correlation data from one SQS or SNS record (or any record of a
/// batch). Batch handlers call this per record.
///
/// ```
/// use serde_json::value::RawValue;
/// use halo::correlation::extract_record;
/// use halo::event::EventSource;
///
/// let record = RawValue::from_string(r#"{"messageId":"m1","eventSource":"aws:sqs","messageAttributes":{"x-correlation-id":{"stringValue":"c-7","dataType":"String"}}}"#.into()).unwrap();
/// let incoming = extract_record(&record);
/// assert_eq!(incoming.source, EventSource::Sqs);
/// assert_eq!(incoming.correlation_id.as_deref(), Some("c-7"));
/// ```
pub(crate) fn extract_record(record: &RawValue) -> Incoming {
    Incoming::from(scan_record(record.get()))
}

impl From<Scan> for Incoming {
    fn from(scan: Scan) -> Incoming {
        let signals = scan.signals;
        Incoming {
            source: scan.source,
            correlation_id: signals.correlation_id,
            debug: signals.debug,
            caller: signals.caller,
            fallback_ids: signals.fallback_ids,
        }
    }
}
