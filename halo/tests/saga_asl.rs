//! ASL definitions: the trip definition loads and runs (success and
//! rollback), `Retry` and `Catch` match error codes, and every validation
//! error names its JSON path.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use halo::saga::asl::{AslError, AslRegistry};
use halo::saga::log::{SagaLog, SagaStatus};
use halo::saga::{MemorySagaLog, Saga, SagaError};
use serde_json::{Value, json};

const TRIP: &str = include_str!("fixtures/trip.asl.json");

/// Calls in order, and failures to inject: task → (code, times).
#[derive(Default)]
struct World {
    calls: Mutex<Vec<String>>,
    inputs: Mutex<HashMap<String, Value>>,
    failures: Mutex<HashMap<String, (String, u32)>>,
}

impl World {
    fn fail(&self, task: &str, code: &str, times: u32) {
        self.failures.lock().unwrap().insert(task.into(), (code.into(), times));
    }
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
}

fn registry(world: &Arc<World>) -> AslRegistry {
    let mut registry = AslRegistry::new();
    for task in ["BookHotel", "BookFlight", "BookRental", "CancelHotel", "CancelFlight", "CancelRental", "Other"] {
        let world = world.clone();
        registry = registry.task(task, move |ctx, input: Value| {
            let world = world.clone();
            async move {
                world.calls.lock().unwrap().push(task.to_owned());
                world.inputs.lock().unwrap().insert(task.to_owned(), input.clone());
                if let Some((code, times)) = world.failures.lock().unwrap().get_mut(task)
                    && *times > 0
                {
                    *times -= 1;
                    return Err(halo::Error::conflict(format!("{task} failed")).with_code(code.clone()));
                }
                Ok(json!({ "id": ctx.idempotency_token(), "attempt": ctx.attempt() }))
            }
        });
    }
    registry
}

fn trip_saga(world: &Arc<World>) -> Saga<Value> {
    Saga::from_asl(TRIP, &registry(world)).expect("the trip definition loads").with_name("trip")
}

#[tokio::test]
async fn the_seed_trip_definition_runs_to_success() {
    let world = Arc::new(World::default());
    let saga = trip_saga(&world);
    assert_eq!(saga.step_names(), vec!["BookHotel", "BookFlight", "BookRental"]);
    let log = MemorySagaLog::new();
    let out = saga.run(&log, "t-1", json!({ "trip": "Lisbon" })).await.unwrap();
    assert_eq!(out["trip"], "Lisbon");
    assert_eq!(out["BookHotelResult"]["id"], "t-1/BookHotel");
    assert_eq!(out["BookFlightResult"]["id"], "t-1/BookFlight");
    assert_eq!(out["BookRentalResult"]["id"], "t-1/BookRental");
    assert_eq!(world.calls(), vec!["BookHotel", "BookFlight", "BookRental"]);
    // BookFlight got the state with the hotel's result.
    assert_eq!(world.inputs.lock().unwrap()["BookFlight"]["BookHotelResult"]["id"], "t-1/BookHotel");
}

#[tokio::test]
async fn a_failed_step_runs_its_catch_chain_in_order() {
    let world = Arc::new(World::default());
    world.fail("BookRental", "NoCars", u32::MAX);
    let log = MemorySagaLog::new();
    let err = trip_saga(&world).run(&log, "t-2", json!({ "trip": "Porto" })).await.unwrap_err();
    match err {
        SagaError::RolledBack { failed_step, cause, .. } => {
            assert_eq!(failed_step, "BookRental");
            assert_eq!(cause.code, "NoCars");
        }
        other => panic!("expected RolledBack, got {other:?}"),
    }
    assert_eq!(
        world.calls(),
        vec!["BookHotel", "BookFlight", "BookRental", "CancelRental", "CancelFlight", "CancelHotel"]
    );
    // The chain sees the error at the Catch's ResultPath and the bookings.
    {
        let inputs = world.inputs.lock().unwrap();
        assert_eq!(inputs["CancelRental"]["BookRentalError"]["Error"], "NoCars");
        assert_eq!(inputs["CancelRental"]["BookHotelResult"]["id"], "t-2/BookHotel");
        // Results thread through the chain (ResultPath of each cancel task).
        assert!(inputs["CancelHotel"]["CancelFlightResult"].is_object());
    }
    let record = log.load("t-2").await.unwrap().unwrap();
    assert_eq!(record.status, SagaStatus::RolledBack);
}

#[tokio::test]
async fn retry_matches_error_codes() {
    // `FlightsBusy` is retried (MaxAttempts 2): two failures then success.
    let world = Arc::new(World::default());
    world.fail("BookFlight", "FlightsBusy", 2);
    let out = trip_saga(&world).run(&MemorySagaLog::new(), "t-3", json!({})).await.unwrap();
    assert_eq!(out["BookFlightResult"]["attempt"], 3);

    // Three failures exceed MaxAttempts: caught, rolled back.
    let world = Arc::new(World::default());
    world.fail("BookFlight", "FlightsBusy", 3);
    let err = trip_saga(&world).run(&MemorySagaLog::new(), "t-4", json!({})).await.unwrap_err();
    assert_eq!(err.failed_step(), Some("BookFlight"));
    assert_eq!(world.calls().iter().filter(|c| *c == "BookFlight").count(), 3);

    // Another code is not retried at all.
    let world = Arc::new(World::default());
    world.fail("BookFlight", "NoSeats", 1);
    let err = trip_saga(&world).run(&MemorySagaLog::new(), "t-5", json!({})).await.unwrap_err();
    assert!(matches!(err, SagaError::RolledBack { .. }), "{err:?}");
    assert_eq!(world.calls().iter().filter(|c| *c == "BookFlight").count(), 1);

    // A compensation's Retry (States.ALL, 3) absorbs two failures.
    let world = Arc::new(World::default());
    world.fail("BookRental", "NoCars", 1);
    world.fail("CancelFlight", "Timeout", 2);
    let err = trip_saga(&world).run(&MemorySagaLog::new(), "t-6", json!({})).await.unwrap_err();
    assert!(matches!(err, SagaError::RolledBack { .. }), "{err:?}");
    assert_eq!(world.calls().iter().filter(|c| *c == "CancelFlight").count(), 3);
}

const CATCH_BY_CODE: &str = r#"{
  "StartAt": "BookHotel",
  "States": {
    "BookHotel": { "Type": "Task", "Resource": "BookHotel", "ResultPath": "$.hotel", "Next": "BookFlight" },
    "BookFlight": {
      "Type": "Task", "Resource": "BookFlight", "ResultPath": "$.flight", "End": true,
      "Catch": [
        { "ErrorEquals": ["NoSeats"], "ResultPath": "$.error", "Next": "CancelHotel" },
        { "ErrorEquals": ["PaymentDeclined", "CardExpired"], "ResultPath": null, "Next": "Other" }
      ]
    },
    "CancelHotel": { "Type": "Task", "Resource": "CancelHotel", "Next": "Failed" },
    "Other": { "Type": "Task", "Resource": "Other", "Next": "CancelHotel" },
    "Failed": { "Type": "Fail" }
  }
}"#;

#[tokio::test]
async fn catch_matches_error_codes() {
    let run = |code: &'static str| async move {
        let world = Arc::new(World::default());
        world.fail("BookFlight", code, u32::MAX);
        let saga = Saga::from_asl(CATCH_BY_CODE, &registry(&world)).unwrap();
        let err = saga.run(&MemorySagaLog::new(), "c", json!({})).await.unwrap_err();
        (err, world.calls())
    };
    let (err, calls) = run("NoSeats").await;
    assert!(matches!(err, SagaError::RolledBack { .. }), "{err:?}");
    assert_eq!(calls, vec!["BookHotel", "BookFlight", "CancelHotel"]);

    let (err, calls) = run("CardExpired").await;
    assert!(matches!(err, SagaError::RolledBack { .. }), "{err:?}");
    assert_eq!(calls, vec!["BookHotel", "BookFlight", "Other", "CancelHotel"]);

    // No catcher matches: nothing is compensated, and the saga says so.
    let (err, calls) = run("Unexpected").await;
    match err {
        SagaError::Uncompensated { failed_step, completed_steps, .. } => {
            assert_eq!(failed_step, "BookFlight");
            assert_eq!(completed_steps, vec!["BookHotel"]);
        }
        other => panic!("expected Uncompensated, got {other:?}"),
    }
    assert_eq!(calls, vec!["BookHotel", "BookFlight"]);
}

fn invalid(definition: Value) -> AslError {
    let world = Arc::new(World::default());
    Saga::from_asl(&definition.to_string(), &registry(&world)).expect_err("the definition is invalid")
}

fn task(resource: &str, next: &str) -> Value {
    json!({ "Type": "Task", "Resource": resource, "Next": next })
}

#[test]
fn validation_errors_name_their_json_path() {
    let end = json!({ "Type": "Task", "Resource": "BookHotel", "End": true });

    let err = invalid(json!({ "StartAt": "Nope", "States": { "A": end } }));
    assert!(err.has("$.StartAt"), "{err}");
    assert!(err.to_string().contains("unknown state `Nope`"), "{err}");

    let err = invalid(json!({ "StartAt": "A", "States": { "A": task("BookHotel", "Missing") } }));
    assert!(err.has("$.States.A.Next"), "{err}");

    let err = invalid(
        json!({ "StartAt": "A", "States": { "A": { "Type": "Task", "Resource": "Unregistered", "End": true } } }),
    );
    assert!(err.has("$.States.A.Resource"), "{err}");
    assert!(err.to_string().contains("not registered"), "{err}");

    let err = invalid(json!({ "StartAt": "A", "States": { "A": end, "Lonely": end } }));
    assert!(err.has("$.States.Lonely"), "{err}");
    assert!(err.to_string().contains("unreachable"), "{err}");

    let err =
        invalid(json!({ "StartAt": "A", "States": { "A": task("BookHotel", "B"), "B": task("BookFlight", "A") } }));
    assert!(err.issues.iter().any(|i| i.message.starts_with("cycle")), "{err}");

    let err = invalid(json!({ "StartAt": "A", "States": { "A": { "Type": "Task", "Resource": "BookHotel" } } }));
    assert!(err.has("$.States.A"), "{err}");
    assert!(err.to_string().contains("missing `Next` or `End: true`"), "{err}");

    let err = invalid(json!({ "StartAt": "A", "States": { "A": { "Type": "Choice" } } }));
    assert!(err.has("$.States.A.Type"), "{err}");

    let err = invalid(json!({ "StartAt": "A", "States": { "A": {
        "Type": "Task", "Resource": "BookHotel", "End": true,
        "Catch": [{ "ErrorEquals": ["States.ALL"], "Next": "Gone" }] } } }));
    assert!(err.has("$.States.A.Catch[0].Next"), "{err}");

    let err = invalid(json!({ "StartAt": "A", "States": { "A": {
        "Type": "Task", "Resource": "BookHotel", "End": true, "ResultPath": "$.a[0]" } } }));
    assert!(err.has("$.States.A.ResultPath"), "{err}");

    let world = Arc::new(World::default());
    let err = Saga::from_asl("{ not json", &registry(&world)).unwrap_err();
    assert!(err.has("$"), "{err}");
}
