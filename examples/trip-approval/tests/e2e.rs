//! trip-approval end to end: the compiled binary's local `invoke` (the
//! execution driven in memory by the SDK's local runner, the approval from
//! `HALO_LOCAL_CALLBACKS`), the same handler in process on the SDK's
//! `LocalRunner` with the stub services inspected, and the binary starting
//! inside Lambda (a loopback Runtime API) without a saga table.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use halo::durable_execution::sdk::test_util::{LocalRunner, TestResult};
use halo_test_support::function::{FunctionProcess, parse_json_lines};
use halo_test_support::runtime_api::RuntimeApi;
use serde_json::Value;
use serde_json::value::RawValue;
use trip_approval::services::{Applied, Effect, Services};
use trip_approval::trip::{Approval, Booking};
use trip_approval::{State, book_trip};

const BINARY: &str = env!("CARGO_BIN_EXE_trip-approval");

/// The event's correlation id (its top-level `x-correlation-id`).
const CORRELATION_ID: &str = "trip-approval-demo-1";

/// The event's trip id, the saga id in every idempotency token.
const TRIP_ID: &str = "trip-2001";

fn event_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events/book-trip.json")
}

fn event() -> Value {
    serde_json::from_str(&std::fs::read_to_string(event_path()).unwrap()).unwrap()
}

fn token(step: &str) -> String {
    format!("{TRIP_ID}/{step}")
}

/// What a local `invoke` printed: its stdout lines, its log lines, whether
/// it exited 0.
struct LocalRun {
    stdout: Vec<Value>,
    logs: Vec<Value>,
    success: bool,
}

/// Runs the binary's `invoke` on `event_file` with `callbacks` as
/// `HALO_LOCAL_CALLBACKS`.
fn invoke_locally(event_file: &Path, callbacks: &str) -> LocalRun {
    let output = Command::new(BINARY)
        .arg("invoke")
        .arg(event_file)
        .env("HALO_LOCAL_CALLBACKS", callbacks)
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .env_remove("HALO_LOG_LEVEL")
        .output()
        .unwrap();
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).lines().map(str::to_owned).collect::<Vec<_>>();
    let stdout = text(&output.stdout).iter().map(|line| serde_json::from_str(line).unwrap()).collect();
    LocalRun { stdout, logs: parse_json_lines(&text(&output.stderr)), success: output.status.success() }
}

/// The saga's transitions, in order: `(event, step)`.
fn transitions(logs: &[Value]) -> Vec<(String, String)> {
    logs.iter()
        .filter(|l| l["message"] == "saga transition")
        .map(|l| (l["event"].as_str().unwrap().to_owned(), l["step"].as_str().unwrap_or_default().to_owned()))
        .collect()
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(event, step)| (event.to_string(), step.to_string())).collect()
}

/// Every line written during the execution carries its one correlation id
/// and its ARN; the lines without one are halo's process-wide warning
/// about the local runner's deadline, written before the first invocation.
fn assert_one_correlation_id(logs: &[Value]) {
    let mut ids: Vec<&str> = logs.iter().filter_map(|l| l["correlation_id"].as_str()).collect();
    ids.dedup();
    assert_eq!(ids, [CORRELATION_ID], "one correlation id across the execution's invocations");
    for line in logs.iter().filter(|l| l["correlation_id"].is_null()) {
        assert_eq!(line["level"], "WARN", "only the deadline warning comes before the execution: {line}");
        assert!(line["message"].as_str().unwrap().contains("deadline"), "{line}");
    }
    let arns: Vec<&Value> =
        logs.iter().filter(|l| l["message"] == "saga transition").map(|l| &l["durable_execution_arn"]).collect();
    assert!(arns.iter().all(|arn| arn.is_string() && *arn == arns[0]), "{arns:?}");
}

#[test]
fn an_approved_trip_is_booked_and_each_transition_is_logged_once() {
    let run = invoke_locally(&event_path(), r#"[{"approved":true,"approver":"grace"}]"#);
    assert!(run.success);
    assert_eq!(run.stdout.len(), 1, "{:?}", run.stdout);
    let booking: Booking = serde_json::from_value(run.stdout[0].clone()).unwrap();
    assert_eq!(booking.trip_id, TRIP_ID);
    assert_eq!((booking.total_cents, booking.currency.as_str()), (184_000, "EUR"));
    assert_eq!(booking.approved_by.as_deref(), Some("grace"));
    assert!(booking.hotel_reservation.starts_with("hotel-"), "{booking:?}");
    assert!(booking.flight_booking.starts_with("flight-"), "{booking:?}");
    assert!(booking.charge.starts_with("charge-"), "{booking:?}");

    // The execution ran over two invocations (the approval suspended the
    // first); the replay of the first three steps wrote nothing again.
    assert_eq!(
        transitions(&run.logs),
        pairs(&[
            ("saga_started", ""),
            ("step_done", "reserve_hotel"),
            ("step_done", "book_flight"),
            ("step_done", "manager_approval"),
            ("step_done", "charge_card"),
            ("saga_committed", ""),
        ])
    );
    let cold: Vec<bool> =
        run.logs.iter().filter(|l| l["message"] == "saga transition").map(|l| l["cold_start"] == true).collect();
    assert_eq!(cold, [true, true, true, false, false, false], "the approval resumed the execution in a new invocation");
    assert_one_correlation_id(&run.logs);

    // Each effect once, by its token.
    let applied: Vec<&str> =
        run.logs.iter().filter(|l| l["message"] == "stub: applied").map(|l| l["effect"].as_str().unwrap()).collect();
    assert_eq!(applied, ["HotelReserved", "FlightBooked", "CardCharged"]);
    let requested: Vec<&Value> = run
        .logs
        .iter()
        .filter(|l| l["message"].as_str().is_some_and(|m| m.starts_with("approval requested")))
        .collect();
    assert_eq!(requested.len(), 1);
    assert!(requested[0]["callback_id"].as_str().is_some_and(|id| !id.is_empty()), "{}", requested[0]);
    assert!(requested[0]["traveller"].is_null(), "no personal data in the approval line");
}

#[test]
fn a_declined_trip_cancels_the_flight_then_the_hotel_and_says_why() {
    let run = invoke_locally(&event_path(), r#"[{"approved":false}]"#);
    assert!(!run.success, "a failed execution exits 1");
    assert_eq!(run.stdout.len(), 1, "{:?}", run.stdout);
    let failure = &run.stdout[0];
    assert_eq!(failure["errorType"], "SagaRolledBack");
    // The SDK prefixes the wire message with the error type.
    assert_eq!(
        failure["errorMessage"],
        "SagaRolledBack: the operation was cancelled: step `charge_card` failed (the approval was declined) and was rolled back"
    );
    // Only the public message: not the saga's own text, the step's code or its tokens.
    let text = failure.to_string();
    for internal in ["saga trip-2001", "ApprovalDeclined", "trip-2001/", "detail", "rolled back: step"] {
        assert!(!text.contains(internal), "`{internal}` leaked: {text}");
    }

    assert_eq!(
        transitions(&run.logs),
        pairs(&[
            ("saga_started", ""),
            ("step_done", "reserve_hotel"),
            ("step_done", "book_flight"),
            ("step_done", "manager_approval"),
            ("step_failed", "charge_card"),
            // charge_card may have side effects: its own refund runs first (and finds nothing).
            ("compensation_started", "charge_card"),
            ("compensation_done", "charge_card"),
            ("compensation_started", "book_flight"),
            ("compensation_done", "book_flight"),
            ("compensation_started", "reserve_hotel"),
            ("compensation_done", "reserve_hotel"),
            ("saga_rolled_back", "charge_card"),
        ])
    );
    assert_one_correlation_id(&run.logs);
    let applied: Vec<&str> =
        run.logs.iter().filter(|l| l["message"] == "stub: applied").map(|l| l["effect"].as_str().unwrap()).collect();
    assert_eq!(applied, ["HotelReserved", "FlightBooked", "FlightCancelled", "HotelCancelled"]);
    // The internal cause is in the error log line only.
    let failed: Vec<&Value> = run.logs.iter().filter(|l| l["message"] == "invocation failed").collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["error_code"], "SagaRolledBack");
    assert!(failed[0]["error_cause"].as_str().unwrap().contains("ApprovalDeclined"), "{}", failed[0]);
}

#[test]
fn an_invalid_trip_books_nothing_and_quotes_nothing() {
    let dir = std::env::temp_dir().join(format!("trip-approval-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let hostile = "<img src=x onerror=alert(1)>";
    let mut invalid = event();
    invalid["trip_id"] = hostile.into();
    let file = dir.join("invalid-trip.json");
    std::fs::write(&file, invalid.to_string()).unwrap();
    let run = invoke_locally(&file, r#"[{"approved":true}]"#);
    std::fs::remove_dir_all(&dir).unwrap();

    assert!(!run.success);
    assert_eq!(run.stdout[0]["errorType"], "Unprocessable");
    assert!(!run.stdout[0].to_string().contains("onerror"), "{}", run.stdout[0]);
    assert_eq!(transitions(&run.logs), [], "the saga never started");
    assert!(run.logs.iter().all(|l| l["message"] != "stub: applied"));
}

/// Runs `book_trip` in process on the SDK's `LocalRunner` (a fresh
/// execution over fresh stub services).
async fn run_in_process(runner: LocalRunner) -> (TestResult<Box<RawValue>>, Services) {
    let services = Services::new();
    let handler = halo::durable_execution::handler(State::new(services.clone()), book_trip, &halo::Options::from_env());
    let event = serde_json::value::to_raw_value(&event()).unwrap();
    (runner.run(handler, event).await, services)
}

fn journal(services: &Services) -> Vec<(Effect, String)> {
    services.journal().into_iter().map(|Applied { effect, token, .. }| (effect, token)).collect()
}

#[tokio::test]
async fn in_process_an_approved_trip_applies_each_effect_exactly_once() {
    let approval = Approval { approved: true, approver: None };
    let (result, services) = run_in_process(LocalRunner::new().callback_success(&approval)).await;

    assert!(result.is_success(), "{:?} {:?}", result.error_type(), result.error_message());
    let booking: Booking = serde_json::from_str(result.output().unwrap().get()).unwrap();
    assert_eq!(booking.trip_id, TRIP_ID);
    assert!(result.invocation_count() >= 2, "the approval suspended the execution");
    assert_eq!(
        journal(&services),
        [
            (Effect::HotelReserved, token("reserve_hotel")),
            (Effect::FlightBooked, token("book_flight")),
            (Effect::ApprovalRequested, token("manager_approval")),
            (Effect::CardCharged, token("charge_card")),
        ]
    );
    // Asked once each, too: replaying the execution ran no step again.
    for (effect, step) in [
        (Effect::HotelReserved, "reserve_hotel"),
        (Effect::FlightBooked, "book_flight"),
        (Effect::ApprovalRequested, "manager_approval"),
        (Effect::CardCharged, "charge_card"),
    ] {
        assert_eq!(services.requests(effect, &token(step)), 1, "{effect:?}");
        assert_eq!(services.applied(effect, &token(step)), 1, "{effect:?}");
    }
    let request = services.approval_request(&token("manager_approval")).unwrap();
    assert!(!request.callback_id.is_empty());
    assert_eq!((request.trip_id.as_str(), request.total_cents), (TRIP_ID, 184_000));
    for undo in [Effect::HotelCancelled, Effect::FlightCancelled, Effect::CardRefunded] {
        assert_eq!(services.journal().iter().filter(|a| a.effect == undo).count(), 0, "{undo:?}");
    }
    // The execution's operations: each step and the callback one durable operation.
    let named: Vec<&str> = result.operations().iter().filter_map(|op| op.name()).collect();
    for step in ["reserve_hotel", "book_flight", "manager_approval", "charge_card"] {
        assert!(named.contains(&step), "{step} in {named:?}");
    }
}

#[tokio::test]
async fn in_process_a_declined_trip_never_charges_and_cancels_flight_then_hotel() {
    let approval = Approval { approved: false, approver: Some("grace".into()) };
    let (result, services) = run_in_process(LocalRunner::new().callback_success(&approval)).await;

    assert!(result.is_failure());
    assert_eq!(result.error_type(), Some("SagaRolledBack"));
    assert!(result.error_message().unwrap().contains("(the approval was declined)"), "{:?}", result.error_message());
    assert_eq!(services.applied(Effect::CardCharged, &token("charge_card")), 0, "never charged");
    assert_eq!(services.requests(Effect::CardCharged, &token("charge_card")), 0, "the card service was never asked");
    assert_eq!(services.requests(Effect::CardRefunded, &token("charge_card")), 1, "the refund by token found nothing");
    assert_eq!(
        journal(&services),
        [
            (Effect::HotelReserved, token("reserve_hotel")),
            (Effect::FlightBooked, token("book_flight")),
            (Effect::ApprovalRequested, token("manager_approval")),
            (Effect::FlightCancelled, token("book_flight")),
            (Effect::HotelCancelled, token("reserve_hotel")),
        ],
        "the flight, then the hotel, cancelled once each"
    );
    assert_eq!(services.requests(Effect::FlightCancelled, &token("book_flight")), 1);
    assert_eq!(services.requests(Effect::HotelCancelled, &token("reserve_hotel")), 1);
}

#[tokio::test]
async fn in_process_an_unanswered_approval_times_out_and_rolls_back() {
    let (result, services) = run_in_process(LocalRunner::new().callback_timeout()).await;

    assert_eq!(result.error_type(), Some("SagaRolledBack"));
    let message = result.error_message().unwrap();
    assert!(message.contains("step `manager_approval` failed and was rolled back"), "{message}");
    assert_eq!(services.requests(Effect::CardCharged, &token("charge_card")), 0);
    let undone: Vec<(Effect, String)> = journal(&services)
        .into_iter()
        .filter(|(e, _)| matches!(e, Effect::FlightCancelled | Effect::HotelCancelled))
        .collect();
    assert_eq!(
        undone,
        [(Effect::FlightCancelled, token("book_flight")), (Effect::HotelCancelled, token("reserve_hotel"))]
    );
}

/// Inside Lambda a binary with `#[saga_step]`s resolves halo's saga log at
/// init; `init` sets an in-memory one, so the container starts without a
/// saga table (the saga's log is the execution) and polls for events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inside_lambda_the_container_starts_without_a_saga_table() {
    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(
        Path::new(BINARY),
        &api,
        &[("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")],
    );
    let polling = api.wait_pending_next(1, Duration::from_secs(20)).await;
    let logs = parse_json_lines(&function.stop());
    assert!(polling, "the runtime never asked for an event: {logs:#?}");
    assert_eq!(api.init_errors(), Vec::<Value>::new());
    assert!(logs.iter().all(|l| l["message"] != "init failed"), "{logs:#?}");
}
