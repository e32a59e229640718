//! The one pass over an event: its source, and the correlation fields it
//! carries for each source.

use super::EventSource;
use super::fields::{Collect, Malformed, Scalar, Value, read};
use super::names;

/// What an event says about correlation, as sent (not yet validated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Signals {
    pub(crate) correlation_id: Option<String>,
    pub(crate) debug: Option<bool>,
    pub(crate) caller: Option<String>,
    /// For HTTP events: the request id, then the trace root.
    pub(crate) fallback_ids: Vec<String>,
    /// The caller's W3C trace context (`traceparent`), as sent.
    pub(crate) traceparent: Option<String>,
}

/// The result of the scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scan {
    pub(crate) source: EventSource,
    pub(crate) signals: Signals,
}

/// The source of an event, from its shape.
///
/// | source | told by |
/// |---|---|
/// | API Gateway REST API | `requestContext` and `httpMethod` |
/// | API Gateway HTTP API / Function URL | `requestContext.http` (a `.lambda-url.` domain is a Function URL) |
/// | ALB | `requestContext.elb` (multi-value when only `multiValueHeaders` is there) |
/// | SQS, SNS, Kinesis, DynamoDB Streams | `Records[0].eventSource` |
/// | EventBridge | `detail` and `detail-type` |
/// | direct invoke | anything else, including text that is not JSON |
///
#[cfg(any(test, feature = "test-support"))]
pub(crate) fn detect(event: &str) -> EventSource {
    scan(event).source
}

/// Scans `event` once: its source and correlation fields. Nothing here
/// fails: missing or oddly shaped data is just absent.
pub(crate) fn scan(event: &str) -> Scan {
    let top: Top<'_> = read(event);
    if top.has_context {
        return from_http(top, event);
    }
    if top.has_records {
        let scan = top.record.into_scan();
        return match scan.source {
            EventSource::Sns | EventSource::Direct => scan,
            // A batch: its first record's id is that record's, not the
            // invocation's.
            source => Scan { source, signals: Signals::default() },
        };
    }
    if top.has_detail && top.has_detail_type {
        return Scan { source: EventSource::EventBridge, signals: top.detail.into_signals() };
    }
    Scan { source: EventSource::Direct, signals: top.direct.into_signals() }
}

#[cfg(test)]
/// Scans one SQS or SNS record (or any record of a batch).
pub(crate) fn scan_record(record: &str) -> Scan {
    read::<Record<'_>>(record).into_scan()
}

/// The `Root=` part of an `X-Amzn-Trace-Id` header
/// (`Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1` gives
/// `1-5759e988-bd862e3fe1be46a994272793`).
fn trace_root(header: &str) -> Option<&str> {
    header.split(';').find_map(|part| part.trim().strip_prefix("Root="))
}

fn from_http(top: Top<'_>, event: &str) -> Scan {
    let context = top.context;
    let source = if context.elb {
        EventSource::Alb { multi_value: top.multi.is_some() && !top.has_headers }
    } else if context.http {
        let on_function_url = context.domain.as_text().is_some_and(|domain| domain.contains(".lambda-url."));
        if on_function_url { EventSource::FunctionUrl } else { EventSource::ApiGatewayV2 }
    } else if top.has_http_method {
        EventSource::ApiGatewayV1
    } else {
        EventSource::Direct
    };
    // `multiValueHeaders` repeats `headers` (API Gateway REST, ALB): it is
    // read only when `headers` has none of the fields.
    let headers = match top.multi {
        Some((start, end)) if top.headers.is_empty() => event.get(start..end).map(read).unwrap_or_default(),
        _ => top.headers,
    };
    let trace_root = headers.trace.as_text().and_then(trace_root).map(str::to_owned);
    let mut signals = headers.fields.into_signals();
    signals.fallback_ids = context.request_id.text().into_iter().chain(trace_root).collect();
    Scan { source, signals }
}

/// The top level of any event.
#[derive(Default)]
struct Top<'de> {
    has_headers: bool,
    headers: Headers<'de>,
    /// Where `multiValueHeaders` is in the event, read only when needed.
    multi: Option<(usize, usize)>,
    has_context: bool,
    context: RequestContext<'de>,
    has_records: bool,
    record: Record<'de>,
    has_detail: bool,
    detail: Fields<'de>,
    has_detail_type: bool,
    has_http_method: bool,
    direct: Fields<'de>,
}

impl<'de> Collect<'de> for Top<'de> {
    fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed> {
        match key {
            b"headers" => (self.has_headers, self.headers) = (true, value.object()?),
            b"multiValueHeaders" => self.multi = Some(value.span()?),
            b"requestContext" => (self.has_context, self.context) = (true, value.object()?),
            b"Records" => (self.has_records, self.record) = (true, value.first()?),
            b"detail" => (self.has_detail, self.detail) = (true, value.object()?),
            b"detail-type" => self.has_detail_type = value.present()?,
            b"httpMethod" => self.has_http_method = value.present()?,
            _ => return self.direct.field(key, value),
        }
        Ok(true)
    }
}

/// `x-correlation-id`, `debug-log-enabled`, `x-user-agent` and
/// `traceparent` as fields of an object (direct invoke, EventBridge
/// `detail`), exact names.
#[derive(Default)]
struct Fields<'de> {
    id: Scalar<'de>,
    debug: Scalar<'de>,
    agent: Scalar<'de>,
    traceparent: Scalar<'de>,
}

impl Fields<'_> {
    fn into_signals(self) -> Signals {
        Signals {
            correlation_id: self.id.text(),
            debug: self.debug.flag(),
            caller: self.agent.text(),
            fallback_ids: Vec::new(),
            traceparent: self.traceparent.text(),
        }
    }

    fn is_empty(&self) -> bool {
        self.id == Scalar::Absent
            && self.debug == Scalar::Absent
            && self.agent == Scalar::Absent
            && self.traceparent == Scalar::Absent
    }
}

impl<'de> Collect<'de> for Fields<'de> {
    fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed> {
        let slots = [&mut self.id, &mut self.debug, &mut self.agent, &mut self.traceparent];
        let Some(slot) = named_slot(key, slots) else { return Ok(false) };
        *slot = value.scalar()?;
        Ok(true)
    }
}

/// The names of the fields the scan reads, in slot order.
const FIELD_NAMES: [&str; 4] = [names::CORRELATION_ID, names::DEBUG, names::USER_AGENT, names::TRACEPARENT];

/// The slot of `key` among the correlation id, debug flag, user agent and
/// trace context slots (exact names), in that order.
fn named_slot<'a, T>(key: &[u8], slots: [&'a mut T; 4]) -> Option<&'a mut T> {
    let index = FIELD_NAMES.iter().position(|n| n.as_bytes() == key)?;
    slots.into_iter().nth(index)
}

/// The same fields as HTTP headers: any case, single or multi-value, plus
/// the trace header.
#[derive(Default)]
struct Headers<'de> {
    fields: Fields<'de>,
    trace: Scalar<'de>,
}

impl Headers<'_> {
    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.trace == Scalar::Absent
    }
}

impl<'de> Collect<'de> for Headers<'de> {
    fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed> {
        if key.eq_ignore_ascii_case(names::TRACE.as_bytes()) {
            self.trace = value.scalar()?;
            return Ok(true);
        }
        match FIELD_NAMES.into_iter().find(|n| n.as_bytes().eq_ignore_ascii_case(key)) {
            Some(name) => self.fields.field(name.as_bytes(), value),
            None => Ok(false),
        }
    }
}

/// What tells HTTP sources apart, and the API Gateway request id.
#[derive(Default)]
struct RequestContext<'de> {
    elb: bool,
    http: bool,
    request_id: Scalar<'de>,
    domain: Scalar<'de>,
}

impl<'de> Collect<'de> for RequestContext<'de> {
    fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed> {
        match key {
            b"elb" => self.elb = value.present()?,
            b"http" => self.http = value.present()?,
            b"requestId" => self.request_id = value.scalar()?,
            b"domainName" => self.domain = value.scalar()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// One record of an SQS, SNS, Kinesis or DynamoDB Streams batch.
#[derive(Default)]
struct Record<'de> {
    source: Scalar<'de>,
    attributes: Attributes<'de>,
    sns: Sns<'de>,
}

impl Record<'_> {
    fn into_scan(self) -> Scan {
        let source = match self.source.text().as_deref() {
            Some("aws:sqs") => EventSource::Sqs,
            Some("aws:sns") => EventSource::Sns,
            Some("aws:kinesis") => EventSource::Kinesis,
            Some("aws:dynamodb") => EventSource::DynamoDbStream,
            _ => EventSource::Direct,
        };
        let attributes = if source == EventSource::Sns { self.sns.attributes } else { self.attributes };
        let signals = Signals {
            correlation_id: attributes.id.0.text(),
            debug: attributes.debug.0.flag(),
            caller: attributes.agent.0.text(),
            fallback_ids: Vec::new(),
            traceparent: attributes.traceparent.0.text(),
        };
        Scan { source, signals }
    }
}

impl<'de> Collect<'de> for Record<'de> {
    fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed> {
        match key {
            b"eventSource" | b"EventSource" => self.source = value.scalar()?,
            b"messageAttributes" => self.attributes = value.object()?,
            b"Sns" => self.sns = value.object()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The `Sns` object of an SNS record.
#[derive(Default)]
struct Sns<'de> {
    attributes: Attributes<'de>,
}

impl<'de> Collect<'de> for Sns<'de> {
    fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed> {
        if key != b"MessageAttributes" {
            return Ok(false);
        }
        self.attributes = value.object()?;
        Ok(true)
    }
}

/// SQS or SNS message attributes.
#[derive(Default)]
struct Attributes<'de> {
    id: AttributeValue<'de>,
    debug: AttributeValue<'de>,
    agent: AttributeValue<'de>,
    traceparent: AttributeValue<'de>,
}

impl<'de> Collect<'de> for Attributes<'de> {
    fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed> {
        let slots = [&mut self.id, &mut self.debug, &mut self.agent, &mut self.traceparent];
        let Some(slot) = named_slot(key, slots) else { return Ok(false) };
        *slot = value.object()?;
        Ok(true)
    }
}

/// One attribute: `{"stringValue": ..}` (SQS) or `{"Value": ..}` (SNS).
#[derive(Default)]
struct AttributeValue<'de>(Scalar<'de>);

impl<'de> Collect<'de> for AttributeValue<'de> {
    fn field(&mut self, key: &[u8], value: &mut Value<'_, 'de>) -> Result<bool, Malformed> {
        if key != b"stringValue" && key != b"Value" {
            return Ok(false);
        }
        self.0 = value.scalar()?;
        Ok(true)
    }
}
