//! Property-based tests over everything a client controls: event decoding,
//! correlation extraction, the full stack on HTTP events and the logger.
//! Whatever is sent: no panic, a valid response, no caller text in a
//! response body beyond a short sanitized field path, and every log line
//! one JSON object under CloudWatch's limit.

use aws_lambda_events::event::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use futures_util::FutureExt;
use halo::test_support::HandlerService;
use halo::{Ctx, Error, Invocation};
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::{Service, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

use halo_test_support::hostile::SENTINEL;

const EVENT: &str = include_str!("../../tests/fixtures/aws/aws_lambda_events/example-apigw-request.json");

fn hostile() -> impl Strategy<Value = String> {
    halo_test_support::hostile::text(40_000)
}

/// Where the hostile text goes in an API Gateway event.
#[derive(Debug, Clone)]
enum Position {
    HeaderName,
    HeaderValue,
    QueryKey,
    QueryValue,
    Path,
    Host,
    Body,
    Base64Body,
    Method,
    CorrelationHeader,
    UserAgentHeader,
    HeaderNameWithNumber,
}

fn position() -> impl Strategy<Value = Position> {
    prop_oneof![
        Just(Position::HeaderName),
        Just(Position::HeaderValue),
        Just(Position::QueryKey),
        Just(Position::QueryValue),
        Just(Position::Path),
        Just(Position::Host),
        Just(Position::Body),
        Just(Position::Base64Body),
        Just(Position::Method),
        Just(Position::CorrelationHeader),
        Just(Position::UserAgentHeader),
        Just(Position::HeaderNameWithNumber),
    ]
}

fn hostile_event(position: &Position, text: &str) -> Value {
    let mut event: Value = serde_json::from_str(EVENT).unwrap();
    match position {
        Position::HeaderName => event["headers"][text] = "v".into(),
        Position::HeaderValue => event["headers"]["x-custom"] = text.into(),
        Position::QueryKey => {
            event["queryStringParameters"][text] = "v".into();
            event["multiValueQueryStringParameters"][text] = json!(["v"]);
        }
        Position::QueryValue => {
            event["queryStringParameters"]["name"] = text.into();
            event["multiValueQueryStringParameters"]["name"] = json!([text]);
        }
        Position::Path => {
            event["path"] = text.into();
            event["requestContext"]["path"] = text.into();
        }
        Position::Host => event["headers"]["Host"] = text.into(),
        Position::Body => event["body"] = text.into(),
        Position::Base64Body => {
            event["body"] = text.into();
            event["isBase64Encoded"] = true.into();
        }
        Position::Method => event["httpMethod"] = text.into(),
        Position::CorrelationHeader => event["headers"]["x-correlation-id"] = text.into(),
        Position::UserAgentHeader => event["headers"]["x-user-agent"] = text.into(),
        // A wrong type under a caller-named key: the error names the path.
        Position::HeaderNameWithNumber => event["headers"][text] = 5.into(),
    }
    event
}

/// `message` carries no caller text except inside its backquoted field path,
/// which is short.
fn assert_no_echo(message: &str) -> Result<(), TestCaseError> {
    let outside_path: String = message.split('`').step_by(2).collect();
    prop_assert!(!outside_path.contains(SENTINEL), "caller text echoed: {message}");
    for path in message.split('`').skip(1).step_by(2) {
        prop_assert!(path.len() <= 67, "a long path: {path}");
    }
    prop_assert!(message.chars().all(|c| (' '..='~').contains(&c)), "not printable ASCII: {message:?}");
    Ok(())
}

async fn echo_nothing(_: ApiGatewayProxyRequest, _: &Ctx) -> Result<ApiGatewayProxyResponse, Error> {
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    Ok(response)
}

/// Runs `event` through halo's full stack; the response and the raw log text.
fn invoke(event: &Value) -> (Value, String) {
    let lines = halo::log::CapturedLines::default();
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let response = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let mut stack = halo::test_support::stack(HandlerService::new(echo_nothing), &halo::Options::default());
            let invocation = Invocation::new(event.to_string(), Ctx::for_test());
            let call = stack.ready().await.unwrap().call(invocation);
            std::panic::AssertUnwindSafe(call).catch_unwind().await.expect("no panic")
        })
    });
    let response = response.expect("an HTTP event always gets an HTTP answer");
    (serde_json::from_str(response.get()).expect("the response is JSON"), lines.text())
}

fn assert_log_lines(text: &str) -> Result<(), TestCaseError> {
    for line in text.lines() {
        prop_assert!(line.len() < 256 * 1024, "{} bytes: over one CloudWatch event (256 KiB)", line.len());
        let value: Result<Value, _> = serde_json::from_str(line);
        prop_assert!(value.as_ref().is_ok_and(Value::is_object), "not one JSON object: {line}");
        prop_assert!(value.unwrap()["message"] != "panic");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn decoding_errors_never_quote_the_caller(position in position(), text in hostile()) {
        let event = hostile_event(&position, &text);
        let raw = serde_json::value::to_raw_value(&event).unwrap();
        if let Err(err) = halo::test_support::decode_event::<ApiGatewayProxyRequest>(raw.get()) {
            prop_assert_eq!(err.code(), "InvalidEvent");
            assert_no_echo(err.message())?;
        }
    }

    #[test]
    fn the_full_stack_answers_every_http_event(position in position(), text in hostile()) {
        let (response, logs) = invoke(&hostile_event(&position, &text));
        let status = response["statusCode"].as_u64().expect("a status code");
        prop_assert!((200..=599).contains(&status));
        let headers = response["headers"].as_object().expect("headers");
        prop_assert!(headers.values().all(Value::is_string));
        let id = headers["x-correlation-id"].as_str().unwrap();
        prop_assert!(halo::correlation::is_valid_id(id));
        if status != 200 {
            let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).expect("a JSON error body");
            prop_assert_eq!(body["error"]["trace_id"].as_str(), Some(id));
            assert_no_echo(body["error"]["message"].as_str().unwrap())?;
            prop_assert!(status < 500, "a client's input is never a server error: {}", body);
        }
        assert_log_lines(&logs)?;
    }

    #[test]
    fn correlation_extraction_takes_anything(value in any_json(), text in hostile()) {
        for event in [value.clone(), json!({ "headers": { "x-correlation-id": text.clone() }, "requestContext": value }), json!({ "Records": [{ "eventSource": "aws:sqs", "messageAttributes": { "x-correlation-id": { "stringValue": text.clone() } } }] })] {
            let raw = serde_json::value::to_raw_value(&event).unwrap();
            let correlation = halo::test_support::decide(halo::correlation::extract(raw.get()), 0.5);
            prop_assert!(halo::correlation::is_valid_id(&correlation.id));
            prop_assert!(correlation.caller.as_deref().is_none_or(halo::correlation::is_valid_id));
        }
    }

    #[test]
    fn every_log_line_stays_one_bounded_json_object(
        message in hostile(),
        value in hostile(),
        key in hostile(),
        count in 1usize..40,
    ) {
        let lines = halo::log::CapturedLines::default();
        let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
        let ctx = Ctx::for_test();
        ctx.set_correlation_id("c-prop");
        for i in 0..count {
            ctx.append_log_key(format!("{key}{i}"), value.as_str());
        }
        tracing::subscriber::with_default(subscriber, || {
            let _entered = tracing::info_span!("span", field = value.as_str()).entered();
            tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(ctx.scope(async {
                tracing::info!(payment_id = value.as_str(), other = ?value, "{message}");
                tracing::warn!(error_cause = value.as_str(), "failed");
            }));
        });
        assert_log_lines(&lines.text())?;
        prop_assert_eq!(lines.json().len(), 2);
        prop_assert!(lines.json().iter().all(|l| l["correlation_id"] == "c-prop"));
    }
}

/// Arbitrary JSON values, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        "[ -~]{0,20}".prop_map(Value::from),
        Just(Value::from("Records")),
        Just(Value::from("requestContext")),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            proptest::collection::btree_map(
                prop_oneof![
                    "[a-zA-Z-]{1,12}",
                    Just("headers".to_owned()),
                    Just("Records".to_owned()),
                    Just("requestContext".to_owned()),
                    Just("x-correlation-id".to_owned()),
                    Just("detail".to_owned()),
                    Just("detail-type".to_owned()),
                    Just("messageAttributes".to_owned()),
                ],
                inner,
                0..6
            )
            .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}
