//! trip-booking as compiled binaries against a loopback Lambda Runtime API,
//! with the saga log in moto's DynamoDB and the in-process booking stubs:
//! success, rollback (409 with the trace id), compensation failure (500),
//! a retried trip that is not booked twice, the ASL definition, and the
//! scheduled recovery function.

use std::path::Path;
use std::time::Duration;

use halo::saga::DynamoDbSagaLog;
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::runtime_api::{Outcome, RuntimeApi};
use serde_json::Value;

const API: &str = env!("CARGO_BIN_EXE_trip-booking");
const RECOVERY: &str = env!("CARGO_BIN_EXE_trip-recovery");
const TIMEOUT: Duration = Duration::from_secs(20);

fn event(file: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("events").join(file);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The event `file` with another trip id (each test run gets fresh sagas).
fn trip_event(file: &str, trip_id: &str) -> Value {
    let mut event = event(file);
    let mut body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
    body["trip_id"] = trip_id.into();
    event["body"] = body.to_string().into();
    event
}

fn body(outcome: &Outcome) -> Value {
    serde_json::from_str(outcome.body["body"].as_str().expect("a text body")).unwrap()
}

/// A function process with the saga table on moto and the stub services.
async fn start(binary: &str, api: &RuntimeApi) -> (FunctionProcess, String) {
    let moto = Moto::shared();
    let table = unique_name("trips");
    let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config().await);
    DynamoDbSagaLog::new(client, &table).create_table().await.unwrap();
    let mut env = moto.env();
    env.push(("HALO_SAGA_TABLE".into(), table.clone()));
    env.push(("TRIP_STUBS".into(), "1".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    (FunctionProcess::start(Path::new(binary), api, &env), table)
}

fn messages<'a>(lines: &'a [Value], message: &str, request_id: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["message"] == message && l["function_request_id"] == request_id).collect()
}

/// What the stub services logged for requests carrying `correlation_id`
/// (they run outside the invocation, so they log the id they received).
fn stub_lines<'a>(lines: &'a [Value], message: &str, correlation_id: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|l| l["message"] == message && l["received_correlation_id"] == correlation_id)
        .map(|l| l["stub"].as_str().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_rolls_back_and_reports_failed_compensations() {
    let api = RuntimeApi::start().await;
    let (function, _) = start(API, &api).await;
    let run = unique_name("t");

    let booked = api.invoke(&trip_event("book-trip.json", &format!("{run}-ok")), TIMEOUT).await;
    let again = api.invoke(&trip_event("book-trip.json", &format!("{run}-ok")), TIMEOUT).await;
    let rolled_back = api.invoke(&trip_event("book-trip-flight-fails.json", &format!("{run}-rb")), TIMEOUT).await;
    let stuck = api.invoke(&trip_event("book-trip-cancel-fails.json", &format!("{run}-cf")), TIMEOUT).await;
    let lines = parse_json_lines(&function.stop());

    // Success: the three bookings; the retried trip gets the same ones from
    // the saga log, and nothing is booked a second time.
    assert_eq!(booked.body["statusCode"], 200, "{:?}", booked.body);
    let bookings = body(&booked);
    assert!(bookings["hotel"].is_string() && bookings["flight"].is_string() && bookings["rental"].is_string());
    assert_eq!(body(&again), bookings);
    // Three booking requests in all, each with the saga's per-step token and
    // the request's correlation id: the retry sent none.
    let tokens: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "stub: booking request" && l["received_correlation_id"] == "trip-demo-1001")
        .map(|l| l["token"].as_str().unwrap())
        .collect();
    let run_ok = format!("{run}-ok");
    assert_eq!(
        tokens,
        [format!("{run_ok}/book_hotel"), format!("{run_ok}/book_flight"), format!("{run_ok}/book_rental")]
    );
    assert!(messages(&lines, "saga transition", &again.request_id).iter().all(|l| l["event"] != "step_started"));

    // Rollback: 409 naming the step, with the request's correlation id as
    // trace id; the hotel (booked before the flight failed) is cancelled.
    assert_eq!(rolled_back.body["statusCode"], 409, "{:?}", rolled_back.body);
    let error = body(&rolled_back)["error"].clone();
    assert_eq!(error["code"], "SagaRolledBack");
    assert!(error["message"].as_str().unwrap().contains("book_flight"));
    assert_eq!(error["trace_id"], "trip-demo-1002");
    assert_eq!(rolled_back.body["headers"]["x-correlation-id"], "trip-demo-1002");
    assert_eq!(stub_lines(&lines, "stub: cancelled", "trip-demo-1002"), ["hotels"]);

    // Compensation failure: 500 with a generic message; the flight could
    // not be cancelled, the hotel still was; an operator sees it logged.
    assert_eq!(stuck.body["statusCode"], 500, "{:?}", stuck.body);
    let error = body(&stuck)["error"].clone();
    assert_eq!(
        (error["code"].as_str(), error["message"].as_str()),
        (Some("SagaCompensationFailed"), Some("internal error"))
    );
    assert_eq!(error["trace_id"], "trip-demo-1003");
    assert_eq!(stub_lines(&lines, "stub: cancelled", "trip-demo-1003"), ["hotels"]);
    let failed = messages(&lines, "saga compensation failed", &stuck.request_id);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["step"], "book_flight");
    assert_eq!(failed[0]["level"], "ERROR");

    // Every transition of a saga is one structured line.
    let transitions: Vec<&str> = messages(&lines, "saga transition", &rolled_back.request_id)
        .iter()
        .map(|l| l["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        transitions,
        [
            "saga_started",
            "step_started",
            "step_done",
            "step_started",
            "step_failed",
            "compensation_started",
            "compensation_done",
            "saga_rolled_back"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_asl_definition_books_and_compensates_in_reverse() {
    let api = RuntimeApi::start().await;
    let (function, _) = start(API, &api).await;
    let run = unique_name("t");
    let mut ok = trip_event("book-trip-asl.json", &format!("{run}-asl-ok"));
    ok["queryStringParameters"] = serde_json::json!({ "definition": "asl" });
    ok["multiValueQueryStringParameters"] = serde_json::json!({ "definition": ["asl"] });
    let booked = api.invoke(&ok, TIMEOUT).await;
    let rolled_back = api.invoke(&trip_event("book-trip-asl.json", &format!("{run}-asl-rb")), TIMEOUT).await;
    let lines = parse_json_lines(&function.stop());

    assert_eq!(booked.body["statusCode"], 200, "{:?}", booked.body);
    assert_eq!(body(&booked)["definition"], "asl");
    assert!(body(&booked)["rental"].is_string());

    assert_eq!(rolled_back.body["statusCode"], 409, "{:?}", rolled_back.body);
    assert!(body(&rolled_back)["error"]["message"].as_str().unwrap().contains("BookRental"));
    // CancelRental has nothing to cancel (the rental failed), then the
    // flight and the hotel, in reverse order.
    assert_eq!(stub_lines(&lines, "stub: cancelled", "trip-demo-1004"), ["flights", "hotels"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recovery_function_runs_on_a_schedule_event() {
    let api = RuntimeApi::start().await;
    let (function, _) = start(RECOVERY, &api).await;
    let schedule = serde_json::json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-11-24T03:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/trip-recovery"], "detail": {}
    });
    let outcome = api.invoke(&schedule, TIMEOUT).await;
    function.stop();
    assert!(outcome.success, "{:?}", outcome.body);
    assert_eq!(outcome.body, serde_json::json!({ "finished": 0, "pending": 0, "unknown": 0 }));
}
