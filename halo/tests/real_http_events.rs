//! The axum adapter on real HTTP events (the sample events of
//! `aws_lambda_events` and `lambda_http`: API Gateway REST and HTTP APIs,
//! console test events, ALB single and multi-value, Function URLs) and on
//! hostile variants of them, through halo's whole stack: no panic, a
//! well-formed proxy response, what can be encoded is served, what cannot is
//! a 400 with the trace id, and the correlation id comes from the event.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::Request;
use axum::routing::any;
use futures_util::FutureExt;
use halo::test_support::HandlerService;
use halo::{Ctx, Invocation};
use proptest::prelude::*;
use serde_json::{Value, json};
use tower::{Service, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

use halo_test_support::hostile::SENTINEL;

/// Answers with what the router saw.
async fn echo(request: Request) -> axum::Json<Value> {
    let header = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    axum::Json(json!({
        "method": request.method().as_str(),
        "path": request.uri().path(),
        "query": request.uri().query(),
        "host": header("host"),
        "cookie": header("cookie"),
        "headers": request.headers().len(),
    }))
}

fn router() -> Router {
    halo::test_support::with_halo_layers(Router::new().route("/", any(echo)).route("/{*rest}", any(echo)))
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/aws")
}

/// Every HTTP sample event, by file name.
fn http_fixtures() -> Vec<(String, Value)> {
    let mut events = Vec::new();
    for dir in ["aws_lambda_events", "lambda_http"] {
        for entry in std::fs::read_dir(fixtures_dir().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let is_http = name.contains("apigw") || name.contains("alb") || name.contains("function_url");
            if is_http && name.ends_with(".json") {
                events.push((name, serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()));
            }
        }
    }
    events.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(events.len() >= 25, "the fixtures are there: {}", events.len());
    events
}

struct Answer {
    status: u64,
    headers: Value,
    body: Value,
    logs: Vec<Value>,
}

/// Runs `event` through halo's whole stack serving [`router`].
fn invoke(event: &Value) -> Answer {
    let lines = halo::log::CapturedLines::default();
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let response = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let service = HandlerService::with_state(router(), halo::test_support::handle_event);
            let mut stack = halo::test_support::stack(service, &halo::Options::default());
            let invocation = Invocation::new(event.to_string(), Ctx::for_test());
            let call = stack.ready().await.unwrap().call(invocation);
            std::panic::AssertUnwindSafe(call).catch_unwind().await.expect("no panic")
        })
    });
    let response: Value = serde_json::from_str(response.expect("an HTTP answer").get()).expect("JSON");
    let status = response["statusCode"].as_u64().expect("a status code");
    let headers = match &response["multiValueHeaders"] {
        Value::Object(multi) if !multi.is_empty() => {
            multi.iter().map(|(k, v)| (k.clone(), v[0].clone())).collect::<serde_json::Map<_, _>>().into()
        }
        _ => response["headers"].clone(),
    };
    assert_eq!(response["isBase64Encoded"], json!(false), "a JSON body is text");
    let body = serde_json::from_str(response["body"].as_str().expect("a body")).expect("a JSON body");
    for line in lines.text().lines() {
        assert!(line.len() < 256 * 1024, "a log line fits one CloudWatch event (256 KiB)");
    }
    let logs = lines.json();
    assert!(logs.iter().all(|l| l["message"] != "panic"), "no panic line");
    Answer { status, headers, body, logs }
}

/// The correlation id the event itself carries: its request id, else its
/// trace root.
fn expected_correlation(event: &Value) -> Option<String> {
    if let Some(id) = event["requestContext"]["requestId"].as_str() {
        return Some(id.to_owned());
    }
    let headers = event["headers"].as_object()?;
    let trace = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("x-amzn-trace-id"))?.1.as_str()?;
    let root = trace.split(';').find_map(|part| part.strip_prefix("Root="))?;
    Some(root.to_owned())
}

#[test]
fn every_real_http_event_is_served_with_the_event_s_correlation_id() {
    for (name, event) in http_fixtures() {
        let answer = invoke(&event);
        assert_eq!(answer.status, 200, "{name}: {:?}", answer.body);
        let method = event["httpMethod"].as_str().or(event["requestContext"]["http"]["method"].as_str()).unwrap();
        assert_eq!(answer.body["method"], method, "{name}");
        let path = event["rawPath"].as_str().or(event["path"].as_str()).unwrap();
        assert_eq!(answer.body["path"], path.replace(' ', "%20"), "{name}: the path the client sent");
        let correlation = answer.headers["x-correlation-id"].as_str().expect("the header").to_owned();
        if let Some(expected) = expected_correlation(&event) {
            assert_eq!(correlation, expected, "{name}: from the event, not generated");
        }
        assert!(halo::correlation::is_valid_id(&correlation));
        assert!(answer.logs.iter().any(|l| l["message"] == "request" && l["status"] == 200), "{name}: access log");
    }
}

#[test]
fn queries_and_cookies_arrive_as_the_client_sent_them() {
    let read = |file: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join(file)).unwrap()).unwrap()
    };
    let v2 = invoke(&read("lambda_http/apigw_v2_proxy_request.json"));
    assert_eq!(v2.body["query"], "parameter1=value1&parameter1=value2&parameter2=value");
    assert_eq!(v2.body["cookie"], "cookie1=value1; cookie2=value2");
    // A REST API's parameters come decoded; they are encoded again.
    let mut rest = read("aws_lambda_events/example-apigw-request.json");
    rest["multiValueQueryStringParameters"] = json!({ "q": ["a b&c", "100%"] });
    assert_eq!(invoke(&rest).body["query"], "q=a%20b%26c&q=100%25");
    // An ALB's query is already encoded: its escapes are kept.
    let alb = invoke(&read("lambda_http/alb_request_encoded_query_parameters.json"));
    let query = alb.body["query"].as_str().unwrap();
    assert!(query.contains('%') && !query.contains("%25"), "{query}");
}

#[test]
fn the_console_test_event_with_a_placeholder_host_is_served() {
    let mut event: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures_dir().join("aws_lambda_events/example-apigw-console-test-request.json"))
            .unwrap(),
    )
    .unwrap();
    event["headers"]["Host"] = "abc.execute-api.{region}.{dns_suffix}".into();
    let answer = invoke(&event);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["host"], "abc.execute-api.{region}.{dns_suffix}");
}

/// The three shapes the hostile variants start from.
fn bases() -> Vec<Value> {
    [
        "aws_lambda_events/example-apigw-request.json",
        "lambda_http/apigw_v2_proxy_request.json",
        "lambda_http/alb_request.json",
    ]
    .iter()
    .map(|f| serde_json::from_str(&std::fs::read_to_string(fixtures_dir().join(f)).unwrap()).unwrap())
    .collect()
}

#[derive(Debug, Clone, Copy)]
enum Position {
    Path,
    QueryKey,
    QueryValue,
    RawQuery,
    Host,
    HeaderName,
    HeaderValue,
    Cookie,
    Method,
    Base64Body,
}

fn place(mut event: Value, position: Position, text: &str) -> Value {
    let v2 = event["version"] == "2.0";
    match position {
        Position::Path if v2 => event["rawPath"] = text.into(),
        Position::Path => event["path"] = text.into(),
        Position::QueryKey | Position::QueryValue | Position::RawQuery if v2 => {
            event["rawQueryString"] = format!("a={text}").into()
        }
        Position::QueryKey => {
            event["queryStringParameters"] = json!({ text: "v" });
            event["multiValueQueryStringParameters"] = json!({ text: ["v"] });
        }
        Position::QueryValue | Position::RawQuery => {
            event["queryStringParameters"] = json!({ "q": text });
            event["multiValueQueryStringParameters"] = json!({ "q": [text] });
        }
        Position::Host => event["headers"]["host"] = text.into(),
        Position::HeaderName => event["headers"][text] = "v".into(),
        Position::HeaderValue => event["headers"]["x-custom"] = text.into(),
        Position::Cookie => event["cookies"] = json!([text]),
        Position::Method if v2 => event["requestContext"]["http"]["method"] = text.into(),
        Position::Method => event["httpMethod"] = text.into(),
        Position::Base64Body => {
            event["body"] = text.into();
            event["isBase64Encoded"] = true.into();
        }
    }
    event
}

/// A served request or a 400 `BadRequest` with the trace id; an error body
/// never carries the caller's text.
fn assert_served_or_rejected(answer: &Answer) -> Result<(), TestCaseError> {
    if answer.status == 200 {
        return Ok(());
    }
    prop_assert_eq!(answer.status, 400, "{:?}", answer.body);
    let error = &answer.body["error"];
    prop_assert!(error["code"] == "BadRequest" || error["code"] == "InvalidEvent", "{:?}", error);
    prop_assert_eq!(&error["trace_id"], &answer.headers["x-correlation-id"]);
    prop_assert!(!answer.body.to_string().contains(SENTINEL), "echoed: {}", answer.body);
    Ok(())
}

#[test]
fn url_and_host_text_a_uri_cannot_hold_is_encoded_and_served() {
    for base in bases() {
        for (position, text) in [
            (Position::Path, "/a \"b\" <c>"),
            (Position::QueryValue, "\"x\" <y> z"),
            (Position::QueryKey, "k \"<"),
            (Position::Host, "{dns_suffix} with spaces"),
            (Position::QueryValue, &"q".repeat(30 * 1024)),
        ] {
            let answer = invoke(&place(base.clone(), position, text));
            assert_eq!(answer.status, 200, "{position:?} {:?}", answer.body);
        }
    }
}

#[test]
fn what_cannot_be_a_request_is_a_400_with_the_trace_id() {
    for base in bases() {
        for (position, text) in [
            (Position::QueryValue, "q".repeat(70 * 1024)),
            (Position::Method, format!("{SENTINEL} GET")),
            (Position::Base64Body, format!("{SENTINEL}!!")),
        ] {
            let answer = invoke(&place(base.clone(), position, &text));
            assert_eq!(answer.status, 400, "{position:?} {:?}", answer.body);
            assert_eq!(answer.body["error"]["code"], "BadRequest");
            let trace_id = answer.body["error"]["trace_id"].as_str().unwrap();
            assert!(!trace_id.is_empty());
            assert_eq!(answer.headers["x-correlation-id"], trace_id);
            assert!(!answer.body.to_string().contains(SENTINEL));
        }
    }
}

fn hostile() -> impl Strategy<Value = String> {
    halo_test_support::hostile::text(80_000)
}

fn position() -> impl Strategy<Value = Position> {
    prop_oneof![
        Just(Position::Path),
        Just(Position::QueryKey),
        Just(Position::QueryValue),
        Just(Position::RawQuery),
        Just(Position::Host),
        Just(Position::HeaderName),
        Just(Position::HeaderValue),
        Just(Position::Cookie),
        Just(Position::Method),
        Just(Position::Base64Body),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_adapter_answers_every_hostile_http_event(base in 0usize..3, position in position(), text in hostile()) {
        let answer = invoke(&place(bases()[base].clone(), position, &text));
        assert_served_or_rejected(&answer)?;
    }
}
