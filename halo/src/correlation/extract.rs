//! Reading correlation data from an incoming event, per source.

use serde_json::value::RawValue;

use super::probe::{boolean, first_element, pick, string};
use super::{EventSource, Incoming, names};

/// Reads the correlation id, the debug-sampling decision and the caller from
/// an event, whatever its source:
///
/// | source | where |
/// |---|---|
/// | API Gateway REST/HTTP, ALB, function URL | headers `x-correlation-id`, `debug-log-enabled`, `x-user-agent` (any case, single or multi-value); fallback id: the API Gateway request id, else the `Root` of `x-amzn-trace-id` |
/// | SQS (first record) | message attributes of the same names (`stringValue`) |
/// | SNS (first record) | message attributes of the same names (`Value`) |
/// | EventBridge | fields of `detail` |
/// | direct invoke | top-level fields |
///
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
    let [headers, multi, context, records, detail, detail_type, http_method, direct_id, direct_debug, direct_agent] =
        pick(
            event.get(),
            [
                "headers",
                "multiValueHeaders",
                "requestContext",
                "Records",
                "detail",
                "detail-type",
                "httpMethod",
                names::CORRELATION_ID,
                names::DEBUG,
                names::USER_AGENT,
            ],
            false,
        );
    if let Some(context) = context {
        return from_http(headers, multi, context, http_method.is_some());
    }
    if let Some(record) = records.and_then(first_element) {
        return from_record(record);
    }
    if let (Some(detail), Some(_)) = (detail, detail_type) {
        let [id, debug, agent] = pick(detail.get(), [names::CORRELATION_ID, names::DEBUG, names::USER_AGENT], false);
        return Incoming::new(EventSource::EventBridge, string(id), boolean(debug), string(agent));
    }
    Incoming::new(EventSource::Direct, string(direct_id), boolean(direct_debug), string(direct_agent))
}

fn from_http(
    headers: Option<&RawValue>,
    multi: Option<&RawValue>,
    context: &RawValue,
    has_http_method: bool,
) -> Incoming {
    let [elb, http, request_id, domain] = pick(context.get(), ["elb", "http", "requestId", "domainName"], false);
    let source = if elb.is_some() {
        EventSource::Alb { multi_value: multi.is_some() && headers.is_none() }
    } else if http.is_some() {
        let domain = string(domain).unwrap_or_default();
        if domain.contains(".lambda-url.") { EventSource::FunctionUrl } else { EventSource::ApiGatewayV2 }
    } else if has_http_method {
        EventSource::ApiGatewayV1
    } else {
        EventSource::Direct
    };
    const WANTED: [&str; 4] = [names::CORRELATION_ID, names::DEBUG, names::USER_AGENT, "x-amzn-trace-id"];
    let mut found = headers.map(|h| pick(h.get(), WANTED, true)).unwrap_or([None; 4]);
    if found.iter().all(Option::is_none)
        && let Some(multi) = multi
    {
        found = pick(multi.get(), WANTED, true);
    }
    let [id, debug, agent, trace] = found;
    let mut incoming = Incoming::new(source, string(id), boolean(debug), string(agent));
    incoming.fallback_id =
        string(request_id).or_else(|| string(trace).as_deref().and_then(super::id::trace_root).map(str::to_owned));
    incoming
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
    from_record(record)
}

fn from_record(record: &RawValue) -> Incoming {
    let [source_lower, source_upper, attributes, sns] =
        pick(record.get(), ["eventSource", "EventSource", "messageAttributes", "Sns"], false);
    let source_name = string(source_lower).or_else(|| string(source_upper)).unwrap_or_default();
    match source_name.as_str() {
        "aws:sqs" => from_attributes(EventSource::Sqs, attributes, "stringValue"),
        "aws:sns" => {
            let [attributes] = sns.map(|s| pick(s.get(), ["MessageAttributes"], false)).unwrap_or([None]);
            from_attributes(EventSource::Sns, attributes, "Value")
        }
        "aws:kinesis" => Incoming::new(EventSource::Kinesis, None, None, None),
        "aws:dynamodb" => Incoming::new(EventSource::DynamoDbStream, None, None, None),
        _ => Incoming::new(EventSource::Direct, None, None, None),
    }
}

fn from_attributes(source: EventSource, attributes: Option<&RawValue>, value_key: &str) -> Incoming {
    let Some(attributes) = attributes else { return Incoming::new(source, None, None, None) };
    let [id, debug, agent] = pick(attributes.get(), [names::CORRELATION_ID, names::DEBUG, names::USER_AGENT], false);
    fn value<'a>(attribute: Option<&'a RawValue>, value_key: &str) -> Option<&'a RawValue> {
        attribute.and_then(|a| pick(a.get(), [value_key], false)[0])
    }
    Incoming::new(
        source,
        string(value(id, value_key)),
        boolean(value(debug, value_key)),
        string(value(agent, value_key)),
    )
}
