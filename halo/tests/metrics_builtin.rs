//! halo's builtin operational metrics through the full stack: they count
//! what its features decide (idempotency, breakers, sagas), each in a set
//! with the `service` and `operation` dimensions. The switch is
//! process-wide, so this is a test binary of its own.

use std::sync::LazyLock;
use std::time::Duration;

use halo::log::CapturedLines;
use halo::metrics::{MetricsConfig, MetricsOutput};
use halo::test_support::HandlerService;
use halo::{Ctx, Error};

#[path = "support/metrics_stack.rs"]
mod metrics_stack;
use metrics_stack::{emf_lines, invoke, options};

/// Builtin metrics are on for this test binary (a process-wide switch).
static BUILTIN: LazyLock<()> = LazyLock::new(|| {
    let config = MetricsConfig::from_env().namespace("HaloTest").builtin(true).output(MetricsOutput::Stderr);
    halo::test_support::install_metrics(&config);
});

async fn charge(request: String) -> Result<String, Error> {
    Ok(format!("charged {request}"))
}

#[derive(serde::Deserialize)]
struct Step {
    feature: String,
}

static STORE: LazyLock<halo::idempotency::MemoryIdempotencyStore> =
    LazyLock::new(halo::idempotency::MemoryIdempotencyStore::new);
static BREAKER: LazyLock<halo::breaker::CircuitBreaker> = LazyLock::new(|| {
    halo::breaker::CircuitBreaker::new("pricing", halo::breaker::BreakerPolicy::default().consecutive_failures(1))
});

#[halo::saga_step(compensate = undo_reserve)]
async fn reserve(_ctx: &halo::saga::StepCtx, id: String) -> Result<String, Error> {
    Ok(id)
}

async fn undo_reserve(_ctx: &halo::saga::StepCtx, _id: String, _out: Option<String>) -> Result<(), Error> {
    Ok(())
}

#[halo::saga_step]
async fn pay(_ctx: &halo::saga::StepCtx, _id: String) -> Result<(), Error> {
    Err(Error::upstream("card declined"))
}

/// Uses one of halo's features as `feature` says.
async fn features(event: Step, _ctx: &Ctx) -> Result<String, Error> {
    match event.feature.as_str() {
        "charge" => {
            let idempotency = halo::idempotency::Idempotency::new(halo::idempotency::IdempotencyConfig::new("charge"));
            idempotency.run_with_store(&*STORE, &"order-1".to_owned(), None, charge("order-1".into())).await
        }
        "pricing" => BREAKER.call(async { Err::<String, _>(Error::upstream("pricing is down")) }).await,
        "saga" => {
            let log = halo::saga::MemorySagaLog::new();
            let saga = halo::saga::Saga::<String>::new("checkout")
                .step_with(reserve, String::clone)
                .step_with(pay, |(id, _): &(String, String)| id.clone());
            saga.run(&log, "s-1", "o-1".to_owned()).await?;
            Ok("done".into())
        }
        "sleep" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok("slept".into())
        }
        "panic" => panic!("the handler panicked"),
        "batch" => {
            let event = serde_json::json!({ "Records": [
                { "messageId": "m-1", "body": "1", "eventSource": "aws:sqs" },
                { "messageId": "m-2", "body": "not json", "eventSource": "aws:sqs" },
            ]});
            let batch: halo::batch::Sqs<u32> = serde_json::from_value(event).unwrap();
            let response =
                batch.process(&halo::batch::BatchOptions::default(), |_| async { Ok::<_, Error>(()) }).await?;
            Ok(format!("{} failed", response.failed_ids().len()))
        }
        _ => Ok("nothing".into()),
    }
}

#[tokio::test]
async fn builtin_metrics_count_what_halo_s_features_decide() {
    LazyLock::force(&BUILTIN);
    let lines = CapturedLines::default();
    let service = halo::test_support::stack(HandlerService::new(features), &options(&lines));
    let long = Duration::from_secs(3);
    for (request, feature) in [
        ("i-1", "charge"),
        ("i-2", "charge"),
        ("b-1", "pricing"),
        ("b-2", "pricing"),
        ("s-1", "saga"),
        ("q-1", "batch"),
        ("p-1", "panic"),
    ] {
        let event = format!(r#"{{"feature":"{feature}"}}"#);
        let call = invoke(&service, request, &event, long);
        let _ = futures_util::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(call)).await;
    }
    let _ = invoke(&service, "t-1", r#"{"feature":"sleep"}"#, Duration::from_millis(400)).await;
    let emf = emf_lines(&lines);
    let count = |request: &str, metric: &str, operation: &str| -> f64 {
        emf.iter()
            .filter(|l| l["function_request_id"] == request && l["operation"] == operation)
            .filter_map(|l| l[metric].as_f64())
            .sum()
    };
    assert_eq!(count("i-1", "IdempotencyClaimed", "charge"), 1.0);
    assert_eq!(count("i-2", "IdempotencyReplayed", "charge"), 1.0);
    assert_eq!(count("i-2", "IdempotencyClaimed", "charge"), 0.0);
    assert_eq!(count("b-1", "BreakerOpened", "pricing"), 1.0);
    assert_eq!(count("b-2", "BreakerRejected", "pricing"), 1.0);
    assert_eq!(count("s-1", "SagaRolledBack", "checkout"), 1.0);
    assert_eq!(count("q-1", "BatchRecordFailed", "sqs"), 1.0);
    let without_operation = |request: &str, metric: &str| -> f64 {
        emf.iter()
            .filter(|l| l["function_request_id"] == request && l.get("operation").is_none())
            .filter_map(|l| l[metric].as_f64())
            .sum()
    };
    assert_eq!(without_operation("p-1", "InvocationPanic"), 1.0);
    assert_eq!(without_operation("t-1", "InvocationTimeout"), 1.0);
    assert_eq!(without_operation("i-1", "InvocationTimeout"), 0.0);
    for line in emf.iter().filter(|l| l.get("operation").is_some()) {
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([["service", "operation"]]));
    }
}
