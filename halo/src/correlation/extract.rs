//! Reading correlation data from an incoming event, per source, in one pass.

use serde::de::MapAccess;
use serde_json::value::RawValue;

use super::probe::{Collect, First, Lenient, Scalar, present, read};
use super::{EventSource, Incoming, names};

/// Reads the correlation id, the debug-sampling decision and the caller from
/// an event, whatever its source:
///
/// | source | where |
/// |---|---|
/// | API Gateway REST/HTTP, ALB, function URL | headers `x-correlation-id`, `debug-log-enabled`, `x-user-agent` (any case, single or multi-value); fallback ids: the request id, then the `Root` of `x-amzn-trace-id` |
/// | SQS, Kinesis, DynamoDB Streams | nothing: each record carries its own id, read per record with [`extract_record`]; the invocation gets its own |
/// | SNS (one record per invocation) | message attributes of the same names (`Value`) |
/// | EventBridge | fields of `detail` |
/// | direct invoke | top-level fields |
///
/// The event is scanned once, descending only into the objects that matter.
/// Nothing here fails: missing or oddly shaped data is just absent.
///
/// ```
/// use serde_json::value::RawValue;
/// use halo::correlation::{EventSource, extract};
///
/// let event = RawValue::from_string(r#"{"detail-type":"OrderPlaced","source":"shop","detail":{"x-correlation-id":"c-1","debug-log-enabled":true}}"#.into()).unwrap();
/// let incoming = extract(&event);
/// assert_eq!(incoming.source, EventSource::EventBridge);
/// assert_eq!(incoming.correlation_id.as_deref(), Some("c-1"));
/// assert_eq!(incoming.debug, Some(true));
/// ```
pub fn extract(event: &RawValue) -> Incoming {
    let top: Top = read(event.get());
    if top.has_context {
        return from_http(top);
    }
    if top.has_records {
        let incoming = top.record.into_incoming();
        return match incoming.source {
            EventSource::Sns | EventSource::Direct => incoming,
            // A batch: its first record's id is that record's, not the
            // invocation's.
            batch => Incoming::new(batch, None, None, None),
        };
    }
    if top.has_detail && top.has_detail_type {
        return top.detail.into_incoming(EventSource::EventBridge);
    }
    top.direct.into_incoming(EventSource::Direct)
}

/// Reads correlation data from one SQS or SNS record (or any record of a
/// batch). Batch handlers call this per record.
///
/// ```
/// use serde_json::value::RawValue;
/// use halo::correlation::{EventSource, extract_record};
///
/// let record = RawValue::from_string(r#"{"messageId":"m1","eventSource":"aws:sqs","messageAttributes":{"x-correlation-id":{"stringValue":"c-7","dataType":"String"}}}"#.into()).unwrap();
/// let incoming = extract_record(&record);
/// assert_eq!(incoming.source, EventSource::Sqs);
/// assert_eq!(incoming.correlation_id.as_deref(), Some("c-7"));
/// ```
pub fn extract_record(record: &RawValue) -> Incoming {
    read::<Record>(record.get()).into_incoming()
}

fn from_http(top: Top) -> Incoming {
    let context = top.context;
    let source = if context.elb {
        EventSource::Alb { multi_value: top.has_multi && !top.has_headers }
    } else if context.http {
        let on_function_url = matches!(&context.domain, Scalar::Text(domain) if domain.contains(".lambda-url."));
        if on_function_url { EventSource::FunctionUrl } else { EventSource::ApiGatewayV2 }
    } else if top.has_http_method {
        EventSource::ApiGatewayV1
    } else {
        EventSource::Direct
    };
    let headers = if top.headers.is_empty() { top.multi } else { top.headers };
    let trace_root = headers.trace.text().and_then(|t| super::id::trace_root(&t).map(str::to_owned));
    let mut incoming = headers.fields.into_incoming(source);
    incoming.fallback_ids = context.request_id.text().into_iter().chain(trace_root).collect();
    incoming
}

/// The top level of any event.
#[derive(Default)]
struct Top {
    has_headers: bool,
    headers: Headers,
    has_multi: bool,
    multi: Headers,
    has_context: bool,
    context: RequestContext,
    has_records: bool,
    record: Record,
    has_detail: bool,
    detail: Fields,
    has_detail_type: bool,
    has_http_method: bool,
    direct: Fields,
}

impl<'de> Collect<'de> for Top {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "headers" => (self.has_headers, self.headers) = (true, map.next_value::<Lenient<Headers>>()?.0),
            "multiValueHeaders" => (self.has_multi, self.multi) = (true, map.next_value::<Lenient<Headers>>()?.0),
            "requestContext" => (self.has_context, self.context) = (true, map.next_value::<Lenient<_>>()?.0),
            "Records" => (self.has_records, self.record) = (true, map.next_value::<First<Record>>()?.0),
            "detail" => (self.has_detail, self.detail) = (true, map.next_value::<Lenient<Fields>>()?.0),
            "detail-type" => self.has_detail_type = present(map)?,
            "httpMethod" => self.has_http_method = present(map)?,
            _ => return self.direct.field(key, map),
        }
        Ok(true)
    }
}

/// `x-correlation-id`, `debug-log-enabled` and `x-user-agent` as fields of
/// an object (direct invoke, EventBridge `detail`), exact names.
#[derive(Default)]
struct Fields {
    id: Scalar,
    debug: Scalar,
    agent: Scalar,
}

impl Fields {
    fn into_incoming(self, source: EventSource) -> Incoming {
        Incoming::new(source, self.id.text(), self.debug.flag(), self.agent.text())
    }

    fn is_empty(&self) -> bool {
        self.id == Scalar::Absent && self.debug == Scalar::Absent && self.agent == Scalar::Absent
    }
}

impl<'de> Collect<'de> for Fields {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            names::CORRELATION_ID => self.id = map.next_value()?,
            names::DEBUG => self.debug = map.next_value()?,
            names::USER_AGENT => self.agent = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The same fields as HTTP headers: any case, single or multi-value, plus
/// the trace header.
#[derive(Default)]
struct Headers {
    fields: Fields,
    trace: Scalar,
}

impl Headers {
    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.trace == Scalar::Absent
    }
}

impl<'de> Collect<'de> for Headers {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key.eq_ignore_ascii_case("x-amzn-trace-id") {
            self.trace = map.next_value()?;
            return Ok(true);
        }
        match [names::CORRELATION_ID, names::DEBUG, names::USER_AGENT].into_iter().find(|n| n.eq_ignore_ascii_case(key))
        {
            Some(name) => self.fields.field(name, map),
            None => Ok(false),
        }
    }
}

/// What tells HTTP sources apart, and the API Gateway request id.
#[derive(Default)]
struct RequestContext {
    elb: bool,
    http: bool,
    request_id: Scalar,
    domain: Scalar,
}

impl<'de> Collect<'de> for RequestContext {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "elb" => self.elb = present(map)?,
            "http" => self.http = present(map)?,
            "requestId" => self.request_id = map.next_value()?,
            "domainName" => self.domain = map.next_value()?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// One record of an SQS, SNS, Kinesis or DynamoDB Streams batch.
#[derive(Default)]
struct Record {
    source: Scalar,
    attributes: Attributes,
    sns: Sns,
}

impl Record {
    fn into_incoming(self) -> Incoming {
        let source = match self.source.text().as_deref() {
            Some("aws:sqs") => EventSource::Sqs,
            Some("aws:sns") => EventSource::Sns,
            Some("aws:kinesis") => EventSource::Kinesis,
            Some("aws:dynamodb") => EventSource::DynamoDbStream,
            _ => EventSource::Direct,
        };
        let attributes = if source == EventSource::Sns { self.sns.attributes } else { self.attributes };
        Incoming::new(source, attributes.id.0.text(), attributes.debug.0.flag(), attributes.agent.0.text())
    }
}

impl<'de> Collect<'de> for Record {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "eventSource" | "EventSource" => self.source = map.next_value()?,
            "messageAttributes" => self.attributes = map.next_value::<Lenient<_>>()?.0,
            "Sns" => self.sns = map.next_value::<Lenient<_>>()?.0,
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// The `Sns` object of an SNS record.
#[derive(Default)]
struct Sns {
    attributes: Attributes,
}

impl<'de> Collect<'de> for Sns {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "MessageAttributes" {
            return Ok(false);
        }
        self.attributes = map.next_value::<Lenient<_>>()?.0;
        Ok(true)
    }
}

/// SQS or SNS message attributes.
#[derive(Default)]
struct Attributes {
    id: AttributeValue,
    debug: AttributeValue,
    agent: AttributeValue,
}

impl<'de> Collect<'de> for Attributes {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        let slot = match key {
            names::CORRELATION_ID => &mut self.id,
            names::DEBUG => &mut self.debug,
            names::USER_AGENT => &mut self.agent,
            _ => return Ok(false),
        };
        *slot = map.next_value::<Lenient<AttributeValue>>()?.0;
        Ok(true)
    }
}

/// One attribute: `{"stringValue": ..}` (SQS) or `{"Value": ..}` (SNS).
#[derive(Default)]
struct AttributeValue(Scalar);

impl<'de> Collect<'de> for AttributeValue {
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        if key != "stringValue" && key != "Value" {
            return Ok(false);
        }
        self.0 = map.next_value()?;
        Ok(true)
    }
}
