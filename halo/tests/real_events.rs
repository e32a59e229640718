//! Real AWS sample events (the fixtures shipped with `aws_lambda_events` and
//! `lambda_http`, copied into `tests/fixtures/aws`) through halo's full
//! stack with a handler of the matching kind: no panic, a well-formed
//! response, and the correlation id from the documented source (for HTTP
//! events never random when the event carries a request id).

use std::path::PathBuf;

use aws_lambda_events::event::alb::{AlbTargetGroupRequest, AlbTargetGroupResponse};
use aws_lambda_events::event::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest, ApiGatewayV2httpResponse,
};
use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use aws_lambda_events::event::lambda_function_urls::{LambdaFunctionUrlRequest, LambdaFunctionUrlResponse};
use aws_lambda_events::event::sns::SnsEvent;
use futures_util::FutureExt;
use halo::batch::{BatchOptions, BatchResponse, DynamoDbStream, Kinesis, RawData, Sqs};
use halo::test_support::HandlerService;
use halo::{Ctx, Error, Invocation};
use serde_json::Value;
use tower::{Service, ServiceExt};
use tracing_subscriber::layer::SubscriberExt;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    RestApi,
    HttpApi,
    FunctionUrl,
    Alb,
    Sqs,
    Sns,
    EventBridge,
    Kinesis,
    DynamoDb,
}

impl Kind {
    fn is_http(self) -> bool {
        matches!(self, Kind::RestApi | Kind::HttpApi | Kind::FunctionUrl | Kind::Alb)
    }
}

/// The kind of every fixture, by its file name.
fn kind(name: &str) -> Kind {
    let rules: [(&str, Kind); 15] = [
        ("example-alb-", Kind::Alb),
        ("alb_", Kind::Alb),
        ("example-apigw-v2-", Kind::HttpApi),
        ("example-apigw-sam-http", Kind::HttpApi),
        ("apigw_v2_", Kind::HttpApi),
        ("example-apigw-", Kind::RestApi),
        ("apigw_", Kind::RestApi),
        ("lambda_function_url", Kind::FunctionUrl),
        ("example-sqs-", Kind::Sqs),
        ("example-sns-", Kind::Sns),
        ("example-cloudwatch-alarm-sns", Kind::Sns),
        ("example-eventbridge-", Kind::EventBridge),
        ("example-kinesis-", Kind::Kinesis),
        ("example-dynamodb-", Kind::DynamoDb),
        ("-", Kind::RestApi),
    ];
    rules.iter().find(|(prefix, _)| name.starts_with(prefix)).map(|(_, k)| *k).expect("every fixture has a kind")
}

/// The kind of an HTTP event by its shape (some file names do not tell:
/// `apigw_request_path_with_space.json` is an HTTP API event).
fn http_kind(text: &str) -> Option<Kind> {
    let event: Value = serde_json::from_str(text).ok()?;
    let context = event.get("requestContext")?;
    if context.get("elb").is_some() {
        Some(Kind::Alb)
    } else if event["version"] == "2.0" {
        let on_url = context["domainName"].as_str().is_some_and(|d| d.contains(".lambda-url."));
        Some(if on_url { Kind::FunctionUrl } else { Kind::HttpApi })
    } else {
        event.get("httpMethod").map(|_| Kind::RestApi)
    }
}

fn fixtures() -> Vec<(String, Kind, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/aws");
    let mut all = Vec::new();
    for dir in ["aws_lambda_events", "lambda_http"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let mut text = std::fs::read_to_string(&path).unwrap();
                if name.contains("-event-record-") {
                    // A single stream record: Lambda sends it inside a batch.
                    text = format!("{{\"Records\":[{text}]}}");
                }
                let kind = http_kind(&text).unwrap_or_else(|| kind(&name));
                all.push((format!("{dir}/{name}"), kind, text));
            }
        }
    }
    all.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(all.len() >= 40, "the fixtures are there: {}", all.len());
    all
}

async fn rest(_: ApiGatewayProxyRequest, _: &Ctx) -> Result<ApiGatewayProxyResponse, Error> {
    tracing::info!("handled");
    let mut response = ApiGatewayProxyResponse::default();
    response.status_code = 200;
    Ok(response)
}

async fn http_api(_: ApiGatewayV2httpRequest, _: &Ctx) -> Result<ApiGatewayV2httpResponse, Error> {
    tracing::info!("handled");
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = 200;
    Ok(response)
}

async fn function_url(_: LambdaFunctionUrlRequest, _: &Ctx) -> Result<LambdaFunctionUrlResponse, Error> {
    tracing::info!("handled");
    let mut response = LambdaFunctionUrlResponse::default();
    response.status_code = 200;
    Ok(response)
}

async fn alb(_: AlbTargetGroupRequest, _: &Ctx) -> Result<AlbTargetGroupResponse, Error> {
    tracing::info!("handled");
    let mut response = AlbTargetGroupResponse::default();
    response.status_code = 200;
    Ok(response)
}

async fn sqs(batch: Sqs<RawData>, _: &Ctx) -> Result<BatchResponse, Error> {
    tracing::info!("handled");
    batch
        .process(&BatchOptions::default(), |record| async move {
            tracing::info!(bytes = record.body.0.len(), "record");
            Ok::<(), Error>(())
        })
        .await
}

async fn sns(event: SnsEvent, _: &Ctx) -> Result<usize, Error> {
    tracing::info!("handled");
    Ok(event.records.len())
}

async fn eventbridge(event: EventBridgeEvent<Value>, _: &Ctx) -> Result<String, Error> {
    tracing::info!("handled");
    Ok(event.detail_type)
}

async fn kinesis(batch: Kinesis<RawData>, _: &Ctx) -> Result<BatchResponse, Error> {
    tracing::info!("handled");
    batch.process(&BatchOptions::default(), |_| async { Ok::<(), Error>(()) }).await
}

async fn dynamodb(batch: DynamoDbStream, _: &Ctx) -> Result<BatchResponse, Error> {
    tracing::info!("handled");
    batch.process(&BatchOptions::default(), |_| async { Ok::<(), Error>(()) }).await
}

fn service(kind: Kind) -> HandlerService {
    match kind {
        Kind::RestApi => HandlerService::new(rest),
        Kind::HttpApi => HandlerService::new(http_api),
        Kind::FunctionUrl => HandlerService::new(function_url),
        Kind::Alb => HandlerService::new(alb),
        Kind::Sqs => HandlerService::new(sqs),
        Kind::Sns => HandlerService::new(sns),
        Kind::EventBridge => HandlerService::new(eventbridge),
        Kind::Kinesis => HandlerService::new(kinesis),
        Kind::DynamoDb => HandlerService::new(dynamodb),
    }
}

/// Runs `event` through the full stack; the response (or Lambda error) and
/// every log line.
fn invoke(kind: Kind, event: &str) -> (Result<Value, Error>, Vec<Value>) {
    let lines = halo::log::CapturedLines::default();
    let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let result = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let mut stack = halo::test_support::stack(service(kind), &halo::Options::default());
            let ctx =
                Ctx::builder("8f7c7a0e-2a5e-4c1b-9d7e-0b7f6b1c2d3e").timeout(std::time::Duration::from_secs(5)).build();
            let invocation = Invocation::new(event, ctx);
            let call = stack.ready().await.unwrap().call(invocation);
            std::panic::AssertUnwindSafe(call).catch_unwind().await.expect("the stack never panics")
        })
    });
    let response = result.map(|raw| serde_json::from_str(raw.get()).expect("the response is JSON"));
    (response, lines.json())
}

/// The header `name` of an HTTP event, any case, single or multi-value.
fn header(event: &Value, name: &str) -> Option<String> {
    for key in ["headers", "multiValueHeaders"] {
        if let Some(map) = event[key].as_object() {
            for (k, v) in map {
                if k.eq_ignore_ascii_case(name) {
                    let value = if v.is_array() { &v[0] } else { v };
                    if let Some(text) = value.as_str() {
                        return Some(text.to_owned());
                    }
                }
            }
        }
    }
    None
}

/// The correlation id the guide documents for an HTTP event
/// (`docs/correlation.md`): the first valid one of the `x-correlation-id`
/// header, the request id, the trace root; `None` when the event has none
/// (then it is generated).
fn documented_http_id(event: &Value) -> Option<String> {
    let trace_root = header(event, "x-amzn-trace-id")
        .and_then(|t| t.split(';').find_map(|p| p.trim().strip_prefix("Root=").map(str::to_owned)));
    [header(event, "x-correlation-id"), event["requestContext"]["requestId"].as_str().map(str::to_owned), trace_root]
        .into_iter()
        .flatten()
        .find(|id| halo::correlation::is_valid_id(id))
}

#[test]
fn every_real_event_runs_through_the_stack_of_its_kind() {
    let mut checked = Vec::new();
    for (name, kind, text) in fixtures() {
        let event: Value = serde_json::from_str(&text).unwrap();
        let (response, lines) = invoke(kind, &text);
        assert!(!lines.iter().any(|l| l["message"] == "panic"), "{name}: {lines:?}");
        let handled = lines.iter().find(|l| l["message"] == "handled").unwrap_or_else(|| panic!("{name}: {lines:?}"));
        let correlation_id = handled["correlation_id"].as_str().expect("every line has the correlation id").to_owned();
        assert!(halo::correlation::is_valid_id(&correlation_id), "{name}");
        let response = response.unwrap_or_else(|e| panic!("{name}: {} {}", e.code(), e.message()));
        if kind.is_http() {
            assert_eq!(response["statusCode"], 200, "{name}: {response}");
            let sent_back =
                header(&response, "x-correlation-id").unwrap_or_else(|| panic!("{name}: no header in {response}"));
            assert_eq!(sent_back, correlation_id, "{name}");
            match documented_http_id(&event) {
                Some(documented) => assert_eq!(correlation_id, documented, "{name}"),
                None => assert!(uuid::Uuid::parse_str(&correlation_id).is_ok(), "{name}: {correlation_id}"),
            }
        } else {
            // Events from inside the account: the id of the event (SNS
            // attributes, EventBridge detail) or a fresh one per invocation,
            // never a batch's first record's.
            assert!(uuid::Uuid::parse_str(&correlation_id).is_ok(), "{name}: {correlation_id}");
            if matches!(kind, Kind::Sqs | Kind::Kinesis | Kind::DynamoDb) {
                assert_eq!(response["batchItemFailures"], serde_json::json!([]), "{name}: {response}");
            }
        }
        if kind == Kind::Sqs {
            let records: Vec<&Value> = lines.iter().filter(|l| l["message"] == "record").collect();
            assert_eq!(records.len(), event["Records"].as_array().unwrap().len(), "{name}");
            for record in records {
                assert!(record["message_id"].as_str().is_some_and(|id| !id.is_empty()), "{name}: {record}");
                assert_ne!(record["correlation_id"], correlation_id.as_str(), "{name}: a record has its own id");
            }
        }
        checked.push((name, kind));
    }
    for kind in [Kind::RestApi, Kind::HttpApi, Kind::FunctionUrl, Kind::Alb, Kind::Sqs, Kind::Sns, Kind::EventBridge] {
        assert!(checked.iter().any(|(_, k)| *k == kind), "no fixture of kind {kind:?}");
    }
}

#[test]
fn http_api_request_ids_are_kept_as_correlation_ids() {
    // The two request ids AWS generated in these fixtures are base64 with
    // padding: they used to be replaced by random ids on every call.
    for (name, expected) in [
        ("aws_lambda_events/example-apigw-v2-request-no-authorizer.json", "LV7fzho-PHcEJPw="),
        ("lambda_http/lambda_function_url_request.json", "MIZRNhJtIAMEMDw="),
    ] {
        let (_, kind, text) = fixtures().into_iter().find(|(n, _, _)| n == name).unwrap();
        let (response, _) = invoke(kind, &text);
        let response = response.unwrap();
        assert_eq!(header(&response, "x-correlation-id").as_deref(), Some(expected), "{name}");
    }
}

#[test]
fn an_sqs_record_without_a_message_id_is_logged_as_such() {
    let (_, _, text) =
        fixtures().into_iter().find(|(n, _, _)| n == "aws_lambda_events/example-sqs-event.json").unwrap();
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["Records"][0].as_object_mut().unwrap().remove("messageId");
    let (response, lines) = invoke(Kind::Sqs, &event.to_string());
    assert!(response.is_ok());
    let warning = lines.iter().find(|l| l["level"] == "WARN").expect("a warning about the missing id");
    assert!(warning["message"].as_str().unwrap().contains("no message id"), "{warning}");
    assert!(lines.iter().all(|l| l.get("message_id") != Some(&Value::String(String::new()))), "no empty id is logged");
}
