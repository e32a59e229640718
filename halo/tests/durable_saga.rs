//! Sagas on Lambda durable execution, driven by the durable execution
//! SDK's in-memory `LocalRunner` (the SDK's production code paths against
//! an in-memory checkpoint backend), and the same saga definitions on
//! halo's saga log, in one parametrised suite.
//!
//! Every step and compensation records its effect in a stub keyed by its
//! idempotency token: a crash (a checkpoint write refused, the invocation
//! failing, the runner invoking it again) at each checkpoint must leave
//! each effect applied once, and the same outcome as a run without one.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use halo::durable_execution::sdk::test_util::{LocalRunner, TestResult};
use halo::durable_execution::sdk::{BoxError, DurableContext};
use halo::saga::{MemorySagaLog, Saga, SagaBackend, SagaError, StepCtx};
use serde::{Deserialize, Serialize};
// Every test of this binary captures its log lines (see `capture`).
use halo_test_support::logs::capture;

/// What the steps did: every call (`calls`) and the effects applied once
/// per idempotency token (`applied`), in order.
#[derive(Default)]
struct Stub {
    calls: Mutex<Vec<String>>,
    applied: Mutex<Vec<String>>,
}

impl Stub {
    fn act(&self, what: &str, token: &str) {
        self.calls.lock().unwrap().push(format!("{what} {token}"));
        let effect = format!("{what} {token}");
        let mut applied = self.applied.lock().unwrap();
        if !applied.contains(&effect) {
            applied.push(effect);
        }
    }

    fn applied(&self) -> Vec<String> {
        self.applied.lock().unwrap().clone()
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

/// The saga's state: the stub, and the step that fails (if any).
struct Services {
    stub: Arc<Stub>,
    fail_at: Option<&'static str>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Trip {
    id: String,
}

fn check(ctx: &StepCtx, step: &str) -> Result<(), halo::Error> {
    let services: &Services = ctx.state()?;
    tracing::info!(attempt = ctx.attempt(), "acting");
    services.stub.act(step, &ctx.idempotency_token());
    if services.fail_at == Some(step) {
        return Err(halo::Error::unprocessable(format!("{step} refused")).with_code("Refused"));
    }
    Ok(())
}

#[halo::saga_step(compensate = cancel_hotel)]
async fn book_hotel(ctx: &StepCtx, trip: Trip) -> Result<String, halo::Error> {
    check(ctx, "book_hotel")?;
    Ok(format!("hotel-{}", trip.id))
}

async fn cancel_hotel(ctx: &StepCtx, _trip: Trip, _booking: Option<String>) -> Result<(), halo::Error> {
    let services: &Services = ctx.state()?;
    services.stub.act("cancel_hotel", &ctx.idempotency_token());
    Ok(())
}

#[halo::saga_step(compensate = cancel_flight)]
async fn book_flight(ctx: &StepCtx, trip: Trip) -> Result<String, halo::Error> {
    check(ctx, "book_flight")?;
    Ok(format!("flight-{}", trip.id))
}

async fn cancel_flight(ctx: &StepCtx, _trip: Trip, _booking: Option<String>) -> Result<(), halo::Error> {
    let services: &Services = ctx.state()?;
    services.stub.act("cancel_flight", &ctx.idempotency_token());
    Ok(())
}

#[halo::saga_step(compensate = refund)]
async fn charge(ctx: &StepCtx, trip: Trip) -> Result<u32, halo::Error> {
    check(ctx, "charge")?;
    let _ = trip;
    Ok(420)
}

async fn refund(ctx: &StepCtx, _trip: Trip, _charged: Option<u32>) -> Result<(), halo::Error> {
    let services: &Services = ctx.state()?;
    services.stub.act("refund", &ctx.idempotency_token());
    Ok(())
}

type Booked = (((Trip, String), String), u32);

/// The three-step trip saga, each step's input the trip.
fn trip_saga(services: Services) -> Saga<Trip, Booked> {
    Saga::<Trip>::new("trip")
        .step_with(book_hotel, |trip: &Trip| trip.clone())
        .step_with(book_flight, |(trip, _): &(Trip, String)| trip.clone())
        .step_with(charge, |((trip, _), _): &((Trip, String), String)| trip.clone())
        .state(services)
}

/// How a saga run ended, comparable across backends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Ended {
    Committed(String),
    RolledBack { failed_step: String, code: String, public_message: Option<String> },
    Other(String),
}

fn ended(result: Result<Booked, SagaError>) -> Ended {
    match result {
        Ok((((_, hotel), flight), charged)) => Ended::Committed(format!("{hotel} {flight} {charged}")),
        Err(SagaError::RolledBack { failed_step, cause, .. }) => {
            Ended::RolledBack { failed_step, code: cause.code, public_message: cause.public_message }
        }
        Err(other) => Ended::Other(other.to_string()),
    }
}

#[derive(Clone, Copy, Debug)]
enum Backend {
    Log,
    Durable,
}

/// Runs the trip saga on `backend` with the step `fail_at` failing; what
/// it ended with, and the stub.
async fn run_trip(backend: Backend, fail_at: Option<&'static str>) -> (Ended, Arc<Stub>) {
    let stub = Arc::new(Stub::default());
    let trip = Trip { id: "t-1".into() };
    let ended = match backend {
        Backend::Log => {
            let saga = trip_saga(Services { stub: Arc::clone(&stub), fail_at });
            let backend = SagaBackend::Log(Arc::new(MemorySagaLog::new()));
            ended(saga.run_on(&backend, "trip-1", trip).await)
        }
        Backend::Durable => {
            let result = durable_trip(LocalRunner::new(), Arc::clone(&stub), fail_at, trip).await;
            result.output().cloned().unwrap_or_else(|| Ended::Other(format!("{:?}", result.error_message())))
        }
    };
    (ended, stub)
}

/// The trip saga as a durable handler on `runner`.
async fn durable_trip(
    runner: LocalRunner,
    stub: Arc<Stub>,
    fail_at: Option<&'static str>,
    trip: Trip,
) -> TestResult<Ended> {
    let saga = trip_saga(Services { stub, fail_at });
    runner
        .run(
            move |trip: Trip, execution: DurableContext| {
                let saga = saga.clone();
                async move {
                    let backend = SagaBackend::Durable(execution);
                    Ok::<_, BoxError>(ended(saga.run_on(&backend, "trip-1", trip).await))
                }
            },
            trip,
        )
        .await
}

const BOOKED: [&str; 3] = ["book_hotel trip-1/book_hotel", "book_flight trip-1/book_flight", "charge trip-1/charge"];

#[tokio::test]
async fn the_same_saga_commits_on_both_backends() {
    let (_capture, _logs) = capture();
    for backend in [Backend::Log, Backend::Durable] {
        let (ended, stub) = run_trip(backend, None).await;
        assert_eq!(ended, Ended::Committed("hotel-t-1 flight-t-1 420".into()), "{backend:?}");
        assert_eq!(stub.applied(), BOOKED, "{backend:?}");
        assert_eq!(stub.calls(), BOOKED, "{backend:?}: each step ran once");
    }
}

#[tokio::test]
async fn a_failure_at_each_step_compensates_the_completed_ones_in_reverse_on_both_backends() {
    let (_capture, _logs) = capture();
    let cases: [(&str, &[&str]); 3] = [
        ("book_hotel", &["book_hotel trip-1/book_hotel"]),
        (
            "book_flight",
            &["book_hotel trip-1/book_hotel", "book_flight trip-1/book_flight", "cancel_hotel trip-1/book_hotel"],
        ),
        (
            "charge",
            &[
                "book_hotel trip-1/book_hotel",
                "book_flight trip-1/book_flight",
                "charge trip-1/charge",
                "cancel_flight trip-1/book_flight",
                "cancel_hotel trip-1/book_hotel",
            ],
        ),
    ];
    for (fail_at, effects) in cases {
        let mut outcomes = Vec::new();
        for backend in [Backend::Log, Backend::Durable] {
            let (ended, stub) = run_trip(backend, Some(fail_at)).await;
            assert_eq!(
                ended,
                Ended::RolledBack {
                    failed_step: fail_at.into(),
                    code: "Refused".into(),
                    public_message: Some(format!("{fail_at} refused")),
                },
                "{backend:?}, {fail_at} failing"
            );
            assert_eq!(stub.calls(), effects, "{backend:?}, {fail_at} failing");
            outcomes.push(ended);
        }
        assert_eq!(outcomes[0], outcomes[1], "the same outcome on both backends");
    }
}

/// A run with the `k`th checkpoint write refused (a retryable failure: the
/// invocation fails and the runner invokes the execution again), for every
/// `k` up to past the last write: the same outcome as without a crash,
/// each effect applied once, and a body run again only when the crash
/// came after it ran and before its outcome was recorded (then with the
/// same token).
async fn crash_at_every_checkpoint(fail_at: Option<&'static str>) -> usize {
    let baseline_stub = Arc::new(Stub::default());
    let baseline =
        durable_trip(LocalRunner::new(), Arc::clone(&baseline_stub), fail_at, Trip { id: "t-1".into() }).await;
    let expected = baseline.output().cloned().expect("the run without a crash ends");
    let writes = baseline.operations().len() * 2 + 2;
    let mut crashes = 0;
    for k in 0..writes {
        let stub = Arc::new(Stub::default());
        let runner = LocalRunner::new().fail_checkpoints_after_retryable(k, 1);
        let result = durable_trip(runner, Arc::clone(&stub), fail_at, Trip { id: "t-1".into() }).await;
        assert_eq!(result.output(), Some(&expected), "crash at checkpoint {k}: {:?}", result.error_message());
        assert_eq!(stub.applied(), baseline_stub.applied(), "crash at checkpoint {k}: each effect applied once");
        let (calls, once) = (stub.calls(), baseline_stub.calls());
        assert!(
            calls.len() <= once.len() + 1,
            "crash at checkpoint {k}: at most the interrupted body again: {calls:?}"
        );
        let mut seen = BTreeMap::new();
        for call in &calls {
            *seen.entry(call.clone()).or_insert(0) += 1;
        }
        assert!(seen.values().all(|&n| n <= 2), "crash at checkpoint {k}: {calls:?}");
        if result.invocation_count() > baseline.invocation_count() {
            crashes += 1;
        }
    }
    crashes
}

#[tokio::test]
async fn a_crash_before_or_after_any_checkpoint_resumes_without_running_a_step_twice() {
    let (_capture, _logs) = capture();
    let crashes = crash_at_every_checkpoint(None).await;
    assert!(crashes >= 6, "every step's two checkpoint writes were refused once: {crashes} crashes");
}

#[tokio::test]
async fn a_crash_during_the_rollback_resumes_it_without_compensating_twice() {
    let (_capture, _logs) = capture();
    let crashes = crash_at_every_checkpoint(Some("charge")).await;
    assert!(crashes >= 10, "the steps' and the compensations' writes were refused once each: {crashes} crashes");
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Approval {
    approved: bool,
}

/// Hotel, a timer, a callback (an approval), flight.
fn paused_saga(
    stub: Arc<Stub>,
    submitted: Arc<Mutex<Vec<String>>>,
    cool_off: Duration,
) -> Saga<Trip, ((Trip, String), Approval)> {
    Saga::<Trip>::new("paused")
        .step_with(book_hotel, |trip: &Trip| trip.clone())
        .wait("cool_off", cool_off)
        .wait_for_callback::<Approval, _, _>(
            "approval",
            Some(Duration::from_secs(86_400)),
            move |ctx, callback_id, _state: (Trip, String)| {
                let submitted = Arc::clone(&submitted);
                async move {
                    submitted.lock().unwrap().push(format!("{} {callback_id}", ctx.step()));
                    Ok(())
                }
            },
        )
        .state(Services { stub, fail_at: None })
}

#[tokio::test]
async fn a_wait_and_a_callback_between_steps_suspend_the_execution() {
    let (_capture, _logs) = capture();
    let stub = Arc::new(Stub::default());
    let submitted = Arc::new(Mutex::new(Vec::new()));
    let saga = paused_saga(Arc::clone(&stub), Arc::clone(&submitted), Duration::from_secs(3600));
    let result = LocalRunner::new()
        .callback_success(&Approval { approved: true })
        .run(
            move |trip: Trip, execution: DurableContext| {
                let saga = saga.clone();
                async move {
                    let ((_, hotel), approval) = saga.run_durable(&execution, "trip-1", trip).await?;
                    Ok::<_, BoxError>((hotel, approval))
                }
            },
            Trip { id: "t-1".into() },
        )
        .await;
    assert_eq!(result.output(), Some(&("hotel-t-1".to_owned(), Approval { approved: true })));
    assert!(result.invocation_count() >= 3, "the timer and the callback each ended an invocation");
    assert_eq!(stub.calls(), ["book_hotel trip-1/book_hotel"], "the step ran once across the invocations");
    let submitted = submitted.lock().unwrap().clone();
    assert_eq!(submitted.len(), 1, "the callback id was submitted once: {submitted:?}");
    assert!(submitted[0].starts_with("approval "), "{submitted:?}");
    let names: Vec<Option<&str>> = result.operations().iter().map(|op| op.name()).collect();
    assert!(names.contains(&Some("cool_off")) && names.contains(&Some("approval")), "{names:?}");
}

#[tokio::test]
async fn a_callback_that_times_out_rolls_the_saga_back() {
    let (_capture, _logs) = capture();
    let stub = Arc::new(Stub::default());
    let saga = paused_saga(Arc::clone(&stub), Arc::default(), Duration::from_secs(3600));
    let result = LocalRunner::new()
        .callback_timeout()
        .run(
            move |trip: Trip, execution: DurableContext| {
                let saga = saga.clone();
                async move {
                    let error = saga.run_durable(&execution, "trip-1", trip).await.err().map(|e| e.to_string());
                    Ok::<_, BoxError>(error)
                }
            },
            Trip { id: "t-1".into() },
        )
        .await;
    let error = result.output().cloned().flatten().expect("the saga failed");
    assert!(error.contains("approval") && error.contains("SagaCallbackTimedOut"), "{error}");
    assert_eq!(stub.calls(), ["book_hotel trip-1/book_hotel", "cancel_hotel trip-1/book_hotel"]);
}

#[tokio::test]
async fn a_callback_on_the_saga_log_fails_with_a_clear_code() {
    let (_capture, _logs) = capture();
    let stub = Arc::new(Stub::default());
    // On the saga log the timer holds the invocation: a short one.
    let saga = paused_saga(Arc::clone(&stub), Arc::default(), Duration::from_millis(5));
    let err = saga.run(&MemorySagaLog::new(), "trip-1", Trip { id: "t-1".into() }).await.unwrap_err();
    match err {
        SagaError::RolledBack { failed_step, cause, .. } => {
            assert_eq!((failed_step.as_str(), cause.code.as_str()), ("approval", "SagaCallbackUnsupported"));
        }
        other => panic!("expected a rollback, got {other:?}"),
    }
    assert_eq!(stub.calls(), ["book_hotel trip-1/book_hotel", "cancel_hotel trip-1/book_hotel"]);
}

#[tokio::test]
async fn each_step_and_compensation_is_one_named_durable_step() {
    let (_capture, _logs) = capture();
    let stub = Arc::new(Stub::default());
    let result = durable_trip(LocalRunner::new(), stub, Some("charge"), Trip { id: "t-1".into() }).await;
    let steps: Vec<(&str, Option<&str>)> = result.operations().iter().map(|op| (op.op_type(), op.name())).collect();
    assert_eq!(
        steps,
        [
            ("Step", Some("book_hotel")),
            ("Step", Some("book_flight")),
            ("Step", Some("charge")),
            ("Step", Some("book_flight:compensate")),
            ("Step", Some("book_hotel:compensate")),
        ]
    );
}

#[tokio::test]
async fn the_backend_comes_from_the_configuration() {
    let (_capture, _logs) = capture();
    // No variable: a durable execution's saga runs on its checkpoints.
    let result = LocalRunner::new()
        .run(
            |_: (), execution: DurableContext| async move {
                let backend = SagaBackend::from_execution(&execution).await?;
                Ok::<_, BoxError>(format!("{backend:?}"))
            },
            (),
        )
        .await;
    assert!(result.output().is_some_and(|b| b.starts_with("SagaBackend::Durable")), "{:?}", result.output());
    // Without an execution: halo's saga log (in memory outside Lambda).
    let backend = SagaBackend::from_env().await.unwrap();
    assert_eq!(format!("{backend:?}"), "SagaBackend::Log");
}

#[tokio::test]
async fn each_transition_is_logged_once_and_a_steps_lines_name_it() {
    let (_capture, logs) = capture();
    let stub = Arc::new(Stub::default());
    let saga = paused_saga(Arc::clone(&stub), Arc::default(), Duration::from_secs(60));
    let run = move |trip: Trip, ctx: &halo::Ctx, execution: &halo::durable_execution::Execution| {
        let (saga, execution, ctx) = (saga.clone(), execution.context().clone(), ctx.clone());
        async move {
            let _ = ctx;
            saga.run_durable(&execution, "trip-1", trip).await.map(|_| ())
        }
    };
    let result = LocalRunner::new()
        .callback_success(&Approval { approved: true })
        .run(
            halo::durable_execution::handler((), run, &halo::Options::from_env()),
            serde_json::value::to_raw_value(&Trip { id: "t-1".into() }).unwrap(),
        )
        .await;
    assert!(result.is_success(), "{:?}", result.error_message());
    assert!(result.invocation_count() >= 3);
    let lines = logs.json();
    let transitions: Vec<String> = lines
        .iter()
        .filter(|l| l["message"] == "saga transition")
        .map(|l| format!("{} {}", l["event"].as_str().unwrap_or(""), l["step"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        transitions,
        ["saga_started ", "step_done book_hotel", "step_done cool_off", "step_done approval", "saga_committed "],
        "each transition once over {} invocations",
        result.invocation_count()
    );
    let acting: Vec<&serde_json::Value> = lines.iter().filter(|l| l["message"] == "acting").collect();
    assert_eq!(acting.len(), 1);
    assert_eq!(acting[0]["operation"], "book_hotel", "{}", acting[0]);
    assert!(acting[0]["durable_execution_arn"].is_string(), "{}", acting[0]);
}
