//! Extraction from realistic events of every source (the files in
//! `halo/tests/events`, checked against `aws_lambda_events`' types), and
//! validation of hostile ids.

use serde_json::value::RawValue;

use super::*;

/// The extraction of an event's JSON text (shadows the glob import).
fn extract(event: &RawValue) -> Incoming {
    super::extract(event.get())
}

fn event(name: &str) -> Box<RawValue> {
    let path = format!("{}/tests/events/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    RawValue::from_string(text).unwrap()
}

fn with(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Box<RawValue> {
    let mut value: serde_json::Value = serde_json::from_str(event(name).get()).unwrap();
    edit(&mut value);
    serde_json::value::to_raw_value(&value).unwrap()
}

#[test]
fn fixtures_are_the_shapes_lambda_sends() {
    use aws_lambda_events::{alb, apigw, eventbridge, lambda_function_urls, sns, sqs};
    let ok = |name: &str, parse: fn(&str) -> bool| assert!(parse(event(name).get()), "{name} does not parse");
    ok("apigw-v1.json", |t| serde_json::from_str::<apigw::ApiGatewayProxyRequest>(t).is_ok());
    ok("apigw-v2.json", |t| serde_json::from_str::<apigw::ApiGatewayV2httpRequest>(t).is_ok());
    ok("function-url.json", |t| serde_json::from_str::<lambda_function_urls::LambdaFunctionUrlRequest>(t).is_ok());
    ok("alb.json", |t| serde_json::from_str::<alb::AlbTargetGroupRequest>(t).is_ok());
    ok("alb-multi-value.json", |t| serde_json::from_str::<alb::AlbTargetGroupRequest>(t).is_ok());
    ok("sqs.json", |t| serde_json::from_str::<sqs::SqsEvent>(t).is_ok());
    ok("sns.json", |t| serde_json::from_str::<sns::SnsEvent>(t).is_ok());
    ok("eventbridge.json", |t| serde_json::from_str::<eventbridge::EventBridgeEvent>(t).is_ok());
}

#[test]
fn reads_each_source() {
    let cases: [(&str, EventSource, &str, Option<bool>); 9] = [
        ("apigw-v1.json", EventSource::ApiGatewayV1, "corr-apigw-v1", Some(true)),
        ("apigw-v2.json", EventSource::ApiGatewayV2, "corr-apigw-v2", None),
        ("function-url.json", EventSource::FunctionUrl, "corr-furl", None),
        ("alb.json", EventSource::Alb { multi_value: false }, "", None),
        ("alb-multi-value.json", EventSource::Alb { multi_value: true }, "corr-alb-multi", None),
        // A batch: the invocation does not take its first record's id or flag.
        ("sqs.json", EventSource::Sqs, "", None),
        ("sns.json", EventSource::Sns, "corr-sns", None),
        ("eventbridge.json", EventSource::EventBridge, "corr-eventbridge", Some(false)),
        ("direct.json", EventSource::Direct, "corr-direct", Some(true)),
    ];
    for (file, source, id, debug) in cases {
        let incoming = extract(&event(file));
        assert_eq!(incoming.source, source, "{file}");
        assert_eq!(incoming.correlation_id.as_deref().unwrap_or(""), id, "{file}");
        assert_eq!(incoming.debug, debug, "{file}");
    }
}

#[test]
fn reads_the_caller() {
    assert_eq!(extract(&event("apigw-v2.json")).caller.as_deref(), Some("checkout"));
    assert_eq!(extract(&event("sns.json")).caller.as_deref(), Some("orders-api"));
    assert_eq!(extract(&event("direct.json")).caller.as_deref(), Some("billing"));
}

#[test]
fn http_falls_back_to_the_request_id_then_the_trace_root() {
    let v1 = with("apigw-v1.json", |e| {
        e["headers"].as_object_mut().unwrap().remove("X-Correlation-Id");
        e["multiValueHeaders"].as_object_mut().unwrap().remove("X-Correlation-Id");
    });
    let (correlation, rejected) = decide(extract(&v1), 0.0);
    assert_eq!(correlation.id, "c6af9ac6-7b61-11e6-9a41-93e8deadbeef");
    assert_eq!(rejected, None);
    let (alb, _) = decide(extract(&event("alb.json")), 0.0);
    assert_eq!(alb.id, "1-5c536348-3d683b8b04734faae651f476");
}

#[test]
fn sqs_records_are_read_one_by_one() {
    #[derive(serde::Deserialize)]
    struct Batch {
        #[serde(rename = "Records")]
        records: Vec<Box<RawValue>>,
    }
    let records = serde_json::from_str::<Batch>(event("sqs.json").get()).unwrap().records;
    let ids: Vec<Option<String>> = records.iter().map(|r| extract_record(r).correlation_id).collect();
    assert_eq!(ids, vec![Some("corr-sqs-1".into()), Some("corr-sqs-2".into())]);
}

#[test]
fn missing_or_empty_ids_are_generated() {
    let direct = RawValue::from_string(r#"{"order_id": 1}"#.into()).unwrap();
    let (first, rejected) = decide(extract(&direct), 0.0);
    assert!(uuid::Uuid::parse_str(&first.id).is_ok(), "{}", first.id);
    assert_eq!(rejected, None);
    let (second, _) = decide(extract(&direct), 0.0);
    assert_ne!(first.id, second.id, "every invocation gets its own id");

    let empty = RawValue::from_string(r#"{"x-correlation-id": ""}"#.into()).unwrap();
    let (correlation, rejected) = decide(extract(&empty), 0.0);
    assert_eq!(rejected, Some(Rejected::BadCharacters));
    assert!(is_valid_id(&correlation.id));
}

#[test]
fn hostile_ids_are_replaced() {
    let hostile = [
        ("a".repeat(129), Rejected::TooLong),
        ("x\n{\"level\":\"ERROR\"}".to_owned(), Rejected::BadCharacters),
        ("id with spaces".to_owned(), Rejected::BadCharacters),
        ("\"quoted\"".to_owned(), Rejected::BadCharacters),
        ("caf\u{e9}".to_owned(), Rejected::BadCharacters),
        ("a\r\nSet-Cookie: x=1".to_owned(), Rejected::BadCharacters),
    ];
    for (id, reason) in hostile {
        let event = with("apigw-v2.json", |e| e["headers"]["x-correlation-id"] = id.clone().into());
        let (correlation, rejected) = decide(extract(&event), 0.0);
        assert_eq!(rejected, Some(reason), "{id:?}");
        assert_ne!(correlation.id, id);
        assert!(is_valid_id(&correlation.id));
    }
    assert!(is_valid_id(&"a".repeat(128)));
}

#[test]
fn non_string_ids_are_ignored() {
    let event = with("direct.json", |e| e["x-correlation-id"] = serde_json::json!({"nested": true}));
    assert_eq!(extract(&event).correlation_id, None);
}

#[test]
fn sampling_follows_upstream_else_the_rate() {
    let with_debug = |debug| Incoming::new(EventSource::Direct, None, debug, None);
    assert!(decide(with_debug(Some(true)), 0.0).0.debug);
    assert!(!decide(with_debug(Some(false)), 1.0).0.debug);
    assert!(decide(with_debug(None), 1.0).0.debug);
    assert!(!decide(with_debug(None), 0.0).0.debug);
    let sampled = (0..2000).filter(|_| decide(with_debug(None), 0.25).0.debug).count();
    assert!((300..700).contains(&sampled), "about a quarter sampled, got {sampled}/2000");
}

/// Runs `f` inside an invocation whose correlation is `id`, sampled.
fn in_invocation<T>(id: &str, f: impl FnOnce() -> T) -> T {
    let ctx = crate::Ctx::for_test();
    ctx.set_correlation(Correlation { debug: true, ..Correlation::new(id) });
    crate::context::sync_scope(ctx, f)
}

fn raw(value: serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(&value).unwrap()
}

fn assert_round_trip(incoming: Incoming, id: &str) {
    assert_eq!(incoming.correlation_id.as_deref(), Some(id));
    assert_eq!(incoming.debug, Some(true));
    assert_eq!(incoming.caller.as_deref(), Some("test-function"));
}

#[test]
fn http_headers_round_trip() {
    let headers = in_invocation("rt-http", propagate::http_headers);
    let mut event: serde_json::Value = serde_json::from_str(event("apigw-v2.json").get()).unwrap();
    event["headers"] =
        headers.iter().map(|(k, v)| (k.as_str().to_owned(), serde_json::Value::from(v.to_str().unwrap()))).collect();
    assert_round_trip(extract(&raw(event)), "rt-http");
}

#[test]
fn sqs_and_sns_attributes_round_trip() {
    let attributes = in_invocation("rt-queue", propagate::message_attributes);
    let sqs: serde_json::Map<String, serde_json::Value> = attributes
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::json!({ "stringValue": v, "dataType": "String" })))
        .collect();
    let record = serde_json::json!({ "messageId": "m", "eventSource": "aws:sqs", "messageAttributes": sqs });
    // An SQS batch is read per record (the invocation keeps its own id).
    assert_round_trip(extract_record(&raw(record)), "rt-queue");

    let sns: serde_json::Map<String, serde_json::Value> =
        attributes.iter().map(|(k, v)| (k.to_string(), serde_json::json!({ "Type": "String", "Value": v }))).collect();
    let record = serde_json::json!({ "EventSource": "aws:sns", "Sns": { "Message": "{}", "MessageAttributes": sns } });
    assert_round_trip(extract(&raw(serde_json::json!({ "Records": [record] }))), "rt-queue");
}

#[test]
fn eventbridge_detail_and_invoke_payload_round_trip() {
    let mut detail = serde_json::json!({ "order_id": 7 });
    in_invocation("rt-events", || propagate::into_event_detail(&mut detail));
    let event = serde_json::json!({ "version": "0", "detail-type": "OrderPlaced", "source": "shop", "detail": detail });
    assert_round_trip(extract(&raw(event)), "rt-events");

    let mut payload = serde_json::json!({ "order_id": 7 });
    in_invocation("rt-invoke", || propagate::into_invoke_payload(&mut payload));
    assert_eq!(payload["order_id"], 7, "the payload's own fields stay");
    assert_round_trip(extract(&raw(payload)), "rt-invoke");
}

#[test]
fn nothing_is_propagated_outside_an_invocation() {
    assert!(propagate::pairs().is_empty());
    let mut payload = serde_json::json!({});
    propagate::into_invoke_payload(&mut payload);
    assert_eq!(payload, serde_json::json!({}));
}

#[test]
fn the_fallback_chain_takes_the_first_valid_candidate() {
    // An HTTP API request id as AWS generates it (base64, with padding).
    let v2 = with("apigw-v2.json", |e| {
        e["headers"].as_object_mut().unwrap().remove("x-correlation-id");
        e["requestContext"]["requestId"] = "JKJaXmPLvHcESHA=".into();
    });
    let (correlation, rejected) = decide(extract(&v2), 0.0);
    assert_eq!((correlation.id.as_str(), rejected), ("JKJaXmPLvHcESHA=", None));

    // A request id that is not valid: the trace root is tried next.
    let root = "1-5759e988-bd862e3fe1be46a994272793";
    let bad_request_id = with("apigw-v2.json", |e| {
        e["headers"].as_object_mut().unwrap().remove("x-correlation-id");
        e["headers"]["x-amzn-trace-id"] = format!("Root={root};Sampled=1").into();
        e["requestContext"]["requestId"] = "not valid\n".into();
    });
    assert_eq!(decide(extract(&bad_request_id), 0.0).0.id, root);

    // An invalid header does not stop the chain either.
    let bad_header = with("apigw-v2.json", |e| {
        e["headers"]["x-correlation-id"] = "<script>".into();
        e["requestContext"]["requestId"] = "LV7fzho-PHcEJPw=".into();
    });
    let (correlation, rejected) = decide(extract(&bad_header), 0.0);
    assert_eq!((correlation.id.as_str(), rejected), ("LV7fzho-PHcEJPw=", Some(Rejected::BadCharacters)));

    // Nothing valid at all: generated.
    let nothing = with("apigw-v2.json", |e| {
        e["headers"].as_object_mut().unwrap().remove("x-correlation-id");
        e["headers"].as_object_mut().unwrap().remove("x-amzn-trace-id");
        e["requestContext"]["requestId"] = "\"quoted\"".into();
    });
    assert!(uuid::Uuid::parse_str(&decide(extract(&nothing), 0.0).0.id).is_ok());
}
