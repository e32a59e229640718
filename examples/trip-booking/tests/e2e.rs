//! trip-booking as compiled binaries against a loopback Lambda Runtime API,
//! with the saga log in moto's DynamoDB and the in-process booking stubs:
//! success, rollback (409 with the trace id), compensation failure (500),
//! a retried trip that is not booked twice, the ASL definition, the
//! scheduled recovery function, and a process killed inside a step after
//! its booking, whose trip recovery then cancels (the booking stubs run in
//! the test process there, so they outlive the killed function).

use std::path::Path;
use std::time::{Duration, Instant};

use halo::saga::DynamoDbSagaLog;
use halo::saga::log::{ActionState, SagaLog, SagaStatus};
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::runtime_api::{Outcome, RuntimeApi};
use serde_json::{Value, json};
use trip_booking::stubs::Stubs;

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

/// The saga log in a new table on moto.
async fn new_log() -> DynamoDbSagaLog {
    new_log_at(&Moto::shared().endpoint()).await
}

/// The saga log in a new table on the DynamoDB at `endpoint`.
async fn new_log_at(endpoint: &str) -> DynamoDbSagaLog {
    let client = aws_sdk_dynamodb::Client::new(&halo_test_support::moto::sdk_config(endpoint).await);
    let log = DynamoDbSagaLog::new(client, unique_name("trips"));
    log.create_table().await.unwrap();
    log
}

/// A function process with the saga table `table` on moto and `extra` env.
fn start_on(binary: &str, api: &RuntimeApi, table: &str, extra: &[(&str, &str)]) -> FunctionProcess {
    start_at(&Moto::shared().endpoint(), binary, api, table, extra)
}

/// A function process with the saga table `table` on the DynamoDB at
/// `endpoint` and `extra` env.
fn start_at(endpoint: &str, binary: &str, api: &RuntimeApi, table: &str, extra: &[(&str, &str)]) -> FunctionProcess {
    let mut env = halo_test_support::moto::sdk_env(endpoint);
    env.push(("HALO_SAGA_TABLE".into(), table.to_owned()));
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    FunctionProcess::start(Path::new(binary), api, &env)
}

/// A function process with a new saga table on moto and the stub services.
async fn start(binary: &str, api: &RuntimeApi) -> (FunctionProcess, String) {
    let table = new_log().await.table().to_owned();
    (start_on(binary, api, &table, &[("TRIP_STUBS", "1")]), table)
}

fn schedule_event() -> Value {
    json!({
        "version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-11-24T03:00:00Z", "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/trip-recovery"], "detail": {}
    })
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

/// On dynalite, a second DynamoDB that returns no item with a failed
/// condition: a trip books, its retry is answered from the log, and a
/// failing one rolls back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_dynalite_a_trip_books_once_and_a_failing_one_rolls_back() {
    let endpoint = halo_test_support::dynalite::Dynalite::shared().endpoint();
    let api = RuntimeApi::start().await;
    let table = new_log_at(&endpoint).await.table().to_owned();
    let function = start_at(&endpoint, API, &api, &table, &[("TRIP_STUBS", "1")]);
    let run = unique_name("t");
    let booked = api.invoke(&trip_event("book-trip.json", &format!("{run}-ok")), TIMEOUT).await;
    let again = api.invoke(&trip_event("book-trip.json", &format!("{run}-ok")), TIMEOUT).await;
    let rolled_back = api.invoke(&trip_event("book-trip-flight-fails.json", &format!("{run}-rb")), TIMEOUT).await;
    drop(function);
    assert_eq!(booked.body["statusCode"], 200, "{:?}", booked.body);
    assert_eq!(body(&again), body(&booked), "the retried trip is answered from the saga log");
    assert_eq!(rolled_back.body["statusCode"], 409, "{:?}", rolled_back.body);
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
    let outcome = api.invoke(&schedule_event(), TIMEOUT).await;
    function.stop();
    assert!(outcome.success, "{:?}", outcome.body);
    assert_eq!(outcome.body, json!({ "finished": 0, "pending": 0, "unknown": 0 }));
}

/// The deadline of the invocation that is killed: the lease its saga run
/// holds lapses then, and recovery waits for it.
const CRASHED_TIMEOUT: Duration = Duration::from_secs(4);

/// The step names of the `#[saga_step]` saga and of the ASL one.
const MACRO_STEPS: [&str; 2] = ["book_hotel", "book_flight"];
const ASL_STEPS: [&str; 2] = ["BookHotel", "BookFlight"];

/// Books a trip with the API binary (the saga of `steps`), the flight
/// service holding its answer after it booked, and kills the process
/// there: the hotel and the flight are booked, and the saga log holds the
/// flight step `Started` with no result, as a crash leaves it. Returns the
/// trip id.
async fn crash_inside_book_flight(stubs: &Stubs, log: &DynamoDbSagaLog, steps: [&str; 2]) -> String {
    stubs.hold("flights");
    let api = RuntimeApi::start().await;
    let function = start_on(API, &api, log.table(), &[("TRIP_SERVICES_URL", stubs.base_url())]);
    let trip_id = unique_name("t-crash");
    let mut event = trip_event("book-trip.json", &trip_id);
    if steps == ASL_STEPS {
        event["queryStringParameters"] = json!({ "definition": "asl" });
        event["multiValueQueryStringParameters"] = json!({ "definition": ["asl"] });
    }
    tokio::select! {
        outcome = api.invoke(&event, CRASHED_TIMEOUT) => panic!("the invocation must hang in book_flight: {:?}", outcome.body),
        () = stubs.held() => {}
    }
    function.stop(); // SIGKILL: no more writes, the lease stays in the log

    let mut live: Vec<(String, String)> = stubs.live_bookings().into_iter().map(|b| (b.kind, b.key)).collect();
    live.sort();
    assert_eq!(
        live,
        [
            ("flights".to_owned(), format!("{trip_id}/{}", steps[1])),
            ("hotels".to_owned(), format!("{trip_id}/{}", steps[0]))
        ]
    );
    let record = log.load(&trip_id).await.unwrap().expect("the saga is in the log");
    assert_eq!(record.status, SagaStatus::Running);
    assert_eq!(record.steps[0].state, ActionState::Done);
    assert_eq!((record.steps[1].name.as_str(), record.steps[1].state), (steps[1], ActionState::Started));
    assert_eq!(record.steps[1].output, None);
    assert!(record.lease.is_some(), "the dead run's lease");
    trip_id
}

/// Runs the recovery function with `env` on schedule events until it
/// finished a saga (bounded): while the dead run's lease lasts the saga is
/// reported pending. Returns the recovery's log lines.
async fn recover_until_finished(stubs: &Stubs, log: &DynamoDbSagaLog, env: &[(&str, &str)]) -> Vec<Value> {
    let api = RuntimeApi::start().await;
    let mut env = env.to_vec();
    env.push(("TRIP_SERVICES_URL", stubs.base_url()));
    env.push(("TRIP_RECOVER_STALLED_AFTER_S", "0"));
    let recovery = start_on(RECOVERY, &api, log.table(), &env);
    let give_up = Instant::now() + CRASHED_TIMEOUT + Duration::from_secs(20);
    loop {
        let outcome = api.invoke(&schedule_event(), TIMEOUT).await;
        assert!(outcome.success, "{:?}", outcome.body);
        if outcome.body == json!({ "finished": 1, "pending": 0, "unknown": 0 }) {
            break;
        }
        assert_eq!(outcome.body, json!({ "finished": 0, "pending": 1, "unknown": 0 }), "held by the lease only");
        assert!(Instant::now() < give_up, "the saga was not recovered after the dead run's lease lapsed");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    parse_json_lines(&recovery.stop())
}

/// The steps whose compensation the recovery ran to the end, in order.
fn compensated(lines: &[Value], trip_id: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l["message"] == "saga transition" && l["saga_id"] == trip_id && l["event"] == "compensation_done")
        .map(|l| l["step"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A crash after the flight was booked, then recovery told to compensate
/// stalled trips: `book_flight`'s compensation gets no output and cancels
/// by the step's token, the hotel is cancelled by its id. Nothing stays
/// booked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_booking_then_recovery_compensating_leaves_no_booking() {
    let stubs = Stubs::start().await.unwrap();
    let log = new_log().await;
    let trip_id = crash_inside_book_flight(&stubs, &log, MACRO_STEPS).await;

    let lines = recover_until_finished(&stubs, &log, &[("TRIP_RECOVER_COMPENSATE_AFTER_S", "0")]).await;
    assert_eq!(stubs.live_bookings(), [], "no booking stays live");
    let flight = stubs.booking("flights", &format!("{trip_id}/book_flight")).unwrap();
    assert!(flight.id.is_some() && !flight.live, "{flight:?}");
    assert_eq!(compensated(&lines, &trip_id), ["book_flight", "book_hotel"]);
    let record = log.load(&trip_id).await.unwrap().unwrap();
    assert_eq!(record.status, SagaStatus::RolledBack);
    assert_eq!(record.failed_step.as_deref(), Some("book_flight"));
    assert_eq!(record.cause.map(|c| c.code).as_deref(), Some("SagaAborted"));
}

/// A crash after the flight was booked, then recovery resuming the trip:
/// the re-run of `book_flight` is refused, so the trip rolls back, and the
/// flight booked before the crash is cancelled by the step's token too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_booking_then_a_failing_rerun_leaves_no_booking() {
    let stubs = Stubs::start().await.unwrap();
    let log = new_log().await;
    let trip_id = crash_inside_book_flight(&stubs, &log, MACRO_STEPS).await;
    stubs.refuse("flights");

    let lines = recover_until_finished(&stubs, &log, &[]).await;
    assert_eq!(stubs.live_bookings(), [], "no booking stays live");
    assert_eq!(compensated(&lines, &trip_id), ["book_flight", "book_hotel"]);
    let record = log.load(&trip_id).await.unwrap().unwrap();
    assert_eq!(record.status, SagaStatus::RolledBack);
    assert_eq!(record.cause.map(|c| c.code).as_deref(), Some("BookingRefused"));
}

/// The same crash in the saga loaded from `trip.asl.json`, then recovery
/// compensating: `BookFlight`'s `Catch` chain runs, `CancelFlight` finds no
/// `BookFlightResult` and cancels by `BookFlight`'s token, `CancelHotel` by
/// the hotel's id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_asl_saga_after_a_crash_then_recovery_compensating_leaves_no_booking() {
    let stubs = Stubs::start().await.unwrap();
    let log = new_log().await;
    let trip_id = crash_inside_book_flight(&stubs, &log, ASL_STEPS).await;

    let lines = recover_until_finished(&stubs, &log, &[("TRIP_RECOVER_COMPENSATE_AFTER_S", "0")]).await;
    assert_eq!(stubs.live_bookings(), [], "no booking stays live");
    assert_eq!(compensated(&lines, &trip_id), ["CancelFlight", "CancelHotel"]);
    let record = log.load(&trip_id).await.unwrap().unwrap();
    assert_eq!(record.status, SagaStatus::RolledBack);
    assert_eq!(record.failed_step.as_deref(), Some("BookFlight"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_booking_is_one_trace_of_steps_compensations_and_calls() {
    let collector = halo_test_support::otlp::OtlpReceiver::start();
    let api = RuntimeApi::start().await;
    let table = new_log().await.table().to_owned();
    let extra =
        [("TRIP_STUBS", "1"), ("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint()), ("OTEL_SERVICE_NAME", "trips")];
    let function = start_on(API, &api, &table, &extra);
    let hex = format!(
        "{:032x}",
        u128::from(std::process::id()) << 64 | u128::from(unique_name("x").len() as u64) << 32 | 0x5eed
    );
    let xray = format!("Root=1-{}-{};Parent=53995c3f42cd8ad8;Sampled=1", &hex[..8], &hex[8..]);
    let trip = unique_name("traced");
    let outcome = api
        .invoke_with_headers(
            &trip_event("book-trip-flight-fails.json", &trip),
            TIMEOUT,
            &[("Lambda-Runtime-Trace-Id", &xray)],
        )
        .await;
    assert_eq!(outcome.body["statusCode"], 409, "{:?}", outcome.body);
    let spans = collector
        .wait_until(TIMEOUT, |spans| spans.iter().filter(|s| s.trace_id == hex).count() >= 7)
        .await
        .into_iter()
        .filter(|s| s.trace_id == hex)
        .collect::<Vec<_>>();
    let lines = parse_json_lines(&function.stop());
    let named = |name: &str| spans.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no {name} in {spans:#?}"));

    // The root is the invocation, continuing the X-Ray trace Lambda sent.
    let root = named("halo-test");
    assert_eq!(root.parent_span_id, "53995c3f42cd8ad8");
    assert_eq!((root.service.as_str(), root.attribute("faas.trigger")), ("trips", Some("http")));
    assert_eq!(root.attribute("http.response.status_code"), Some("409"));
    // Each step and the compensation under it; each HTTP call under its step.
    let hotel = named("saga.step book_hotel");
    let flight = named("saga.step book_flight");
    let cancel = named("saga.compensation book_hotel");
    for span in [hotel, flight, cancel] {
        assert_eq!(span.parent_span_id, root.span_id, "{}", span.name);
    }
    let under =
        |parent: &str, method: &str| spans.iter().filter(|s| s.parent_span_id == parent && s.name == method).count();
    assert_eq!(under(&hotel.span_id, "POST"), 1, "the hotel booking call");
    assert_eq!(under(&flight.span_id, "POST"), 1, "the failed flight booking call");
    assert_eq!(under(&cancel.span_id, "DELETE"), 1, "the cancellation call");
    // The saga log's writes are AWS spans of the same trace.
    assert!(spans.iter().any(|s| s.name == "DynamoDB.PutItem" && s.kind == 3), "{spans:#?}");

    // The hotel stub received the client span's context.
    let post = spans.iter().find(|s| s.parent_span_id == hotel.span_id && s.name == "POST").unwrap();
    let received: Vec<&str> = lines
        .iter()
        .filter(|l| l["message"] == "stub: booking request" && l["stub"] == "hotels")
        .filter_map(|l| l["received_traceparent"].as_str())
        .filter(|t| t.contains(&hex))
        .collect();
    assert_eq!(received, [format!("00-{hex}-{}-01", post.span_id)]);
    // The invocation's log lines carry the trace.
    let traced = lines
        .iter()
        .filter(|l| l["function_request_id"] == outcome.request_id.as_str() && l["trace_id"] == hex.as_str());
    assert!(traced.count() >= 1);
}

/// Hostile request bodies (an unknown key, a wrong type in each field, a
/// hostile nested object, broken JSON, text that is not JSON): no error
/// response carries the caller's text back.
#[test]
fn no_error_response_carries_the_callers_text() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = std::path::Path::new(env!("CARGO_BIN_EXE_trip-booking"));
    let errors =
        halo_test_support::hostile_bodies::assert_no_caller_text_in_errors(dir, binary, "events/book-trip.json");
    assert!(errors >= 3, "the hostile bodies were refused: {errors} error responses");
}
