//! halo's stack on Lambda durable execution, driven by the durable
//! execution SDK's in-memory `LocalRunner`: an execution of several
//! invocations writes each log line of user code once, each metric value
//! once, carries one correlation id throughout, fails with halo's error
//! codes, and `#[idempotent]`-style claims tell a replay from a duplicate.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use halo::durable_execution::sdk::test_util::LocalRunner;
use halo::durable_execution::{Execution, handler};
use halo::idempotency::{Idempotency, IdempotencyConfig, MemoryIdempotencyStore};
use halo::log::CapturedLines;
use halo::metrics::{Metrics, MetricsConfig, MetricsOutput, Unit};
use halo::{Ctx, Options};
use serde_json::Value;
// Every test of this binary captures its log lines (see `capture`).
use halo_test_support::logs::capture;
use serde_json::value::{RawValue, to_raw_value};

fn options(metrics: &CapturedLines) -> Options {
    Options::from_env().metrics(
        MetricsConfig::from_env()
            .namespace("HaloTest")
            .service("durable-test")
            .output(MetricsOutput::Captured(metrics.clone())),
    )
}

fn event(value: Value) -> Box<RawValue> {
    to_raw_value(&value).unwrap()
}

/// Logs and counts before, between and after two waits and a step: three
/// invocations.
async fn chatty(order: Value, ctx: &Ctx, execution: &Execution) -> Result<String, halo::Error> {
    tracing::info!(order = %order["id"], "started");
    Metrics::current().add_metric("Started", Unit::Count, 1.0).unwrap();
    execution.wait(Duration::from_secs(60)).name("first").await.map_err(halo::Error::internal)?;
    tracing::info!("between the waits");
    let seen = execution
        .step(|_| async {
            tracing::info!("inside the step");
            Ok(Ctx::current().and_then(|c| c.correlation_id().map(str::to_owned)).unwrap_or_default())
        })
        .name("look")
        .await
        .map_err(halo::Error::internal)?;
    execution.wait(Duration::from_secs(60)).name("second").await.map_err(halo::Error::internal)?;
    tracing::info!("finished");
    Metrics::current().add_metric("Finished", Unit::Count, 1.0).unwrap();
    assert_eq!(ctx.correlation_id(), Some(seen.as_str()), "the step saw the invocation's correlation id");
    Ok(seen)
}

#[tokio::test]
async fn each_line_and_metric_of_user_code_is_written_once_per_execution() {
    let (_capture, logs) = capture();
    let metrics = CapturedLines::default();
    let run = handler((), chatty, &options(&metrics));
    let result = LocalRunner::new().run(run, event(serde_json::json!({ "id": "o-1" }))).await;
    assert!(result.is_success(), "{:?}", result.error_message());
    assert_eq!(result.invocation_count(), 3, "two waits: three invocations");

    let lines = logs.json();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    for message in ["started", "between the waits", "inside the step", "finished"] {
        assert_eq!(messages.iter().filter(|m| **m == message).count(), 1, "`{message}` once: {messages:?}");
    }
    let correlation_ids: std::collections::BTreeSet<&str> =
        lines.iter().filter_map(|l| l["correlation_id"].as_str()).collect();
    assert_eq!(correlation_ids.len(), 1, "one correlation id for the execution: {correlation_ids:?}");
    let seen = result.output().map(|raw| serde_json::from_str::<String>(raw.get()).unwrap()).unwrap();
    assert!(correlation_ids.contains(seen.as_str()), "the step's id is the lines' id");
    assert!(
        lines.iter().all(|l| l["durable_execution_arn"].as_str().is_some_and(|a| a.starts_with("arn:aws:lambda:"))),
        "every line names the execution"
    );

    let emf = halo_test_support::emf::validate_lines(&metrics.text());
    for name in ["Started", "Finished"] {
        let count = emf.iter().filter(|line| line.get(name).is_some()).count();
        assert_eq!(count, 1, "`{name}` written once over three invocations: {emf:?}");
    }
}

#[tokio::test]
async fn the_correlation_id_is_the_events_when_it_carries_one() {
    let (_capture, _logs) = capture();
    async fn id(_: Value, ctx: &Ctx, execution: &Execution) -> Result<String, halo::Error> {
        execution.wait(Duration::from_secs(1)).await.map_err(halo::Error::internal)?;
        Ok(ctx.correlation_id().unwrap_or_default().to_owned())
    }
    let sent = serde_json::json!({ "headers": { "x-correlation-id": "from-the-caller-1" }, "requestContext": { "requestId": "r-1" } });
    let result = LocalRunner::new().run(handler((), id, &Options::from_env()), event(sent)).await;
    let id: String = serde_json::from_str(result.output().unwrap().get()).unwrap();
    assert_eq!(id, "from-the-caller-1");
}

#[tokio::test]
async fn a_handler_error_fails_the_execution_with_its_code_and_public_message_only() {
    let (_capture, logs) = capture();
    async fn refuse(kind: String, _: &Ctx, execution: &Execution) -> Result<(), halo::Error> {
        execution.wait(Duration::from_secs(1)).await.map_err(halo::Error::internal)?;
        match kind.as_str() {
            "declined" => Err(halo::Error::unprocessable("card declined").with_code("CardDeclined")),
            _ => Err(halo::Error::internal("the ledger at 10.0.0.7 said password=hunter2")),
        }
    }
    let metrics = CapturedLines::default();
    let result = LocalRunner::new().run(handler((), refuse, &options(&metrics)), event("declined".into())).await;
    assert!(result.is_failure());
    assert_eq!(result.error_type(), Some("CardDeclined"));
    assert!(result.error_message().is_some_and(|m| m.contains("card declined")), "{:?}", result.error_message());

    let result = LocalRunner::new().run(handler((), refuse, &options(&metrics)), event("bug".into())).await;
    assert_eq!(result.error_type(), Some("InternalError"));
    let message = result.error_message().unwrap_or_default();
    assert!(!message.contains("hunter2") && !message.contains("10.0.0.7"), "{message}");
    assert!(logs.text().contains("hunter2"), "the internal cause is logged for operators");
}

#[tokio::test]
async fn a_replayed_invocation_is_not_a_duplicate_but_another_trigger_is() {
    let (_capture, _logs) = capture();
    let store = Arc::new(MemoryIdempotencyStore::new());
    let idempotency = Arc::new(Idempotency::new(IdempotencyConfig::new("orders")));
    let runs = Arc::new(AtomicUsize::new(0));
    let body_runs = Arc::clone(&runs);
    let (store_in, idem_in) = (Arc::clone(&store), Arc::clone(&idempotency));
    let idempotent = move |order: Value, ctx: &Ctx, execution: &Execution| {
        let (store, idempotency, runs) = (Arc::clone(&store_in), Arc::clone(&idem_in), Arc::clone(&body_runs));
        let (ctx, execution) = (ctx.clone(), execution.context().clone());
        async move {
            let body = async {
                runs.fetch_add(1, Ordering::SeqCst);
                execution.wait(Duration::from_secs(60)).name("settle").await.map_err(halo::Error::internal)?;
                Ok::<_, halo::Error>(format!("placed {}", order["id"]))
            };
            idempotency.run_with_store(store.as_ref(), &order, Some(&ctx), body).await
        }
    };
    let order = serde_json::json!({ "id": "o-7" });
    let result = LocalRunner::new().run(handler((), idempotent, &Options::from_env()), event(order.clone())).await;
    assert!(result.is_success(), "the replay after the wait is the same execution: {:?}", result.error_message());
    assert_eq!(result.invocation_count(), 2);
    assert_eq!(result.output().map(|raw| raw.get()), Some(r#""placed \"o-7\"""#));

    // The same order again from another trigger (not this execution):
    // the stored response, the body not run again.
    let again = async { Ok::<_, halo::Error>("ran again".to_owned()) };
    let duplicate: Result<String, halo::Error> = idempotency.run_with_store(store.as_ref(), &order, None, again).await;
    assert_eq!(duplicate.unwrap(), "placed \"o-7\"");
    assert_eq!(
        runs.load(Ordering::SeqCst),
        2,
        "the body ran in each invocation of the one execution, not for the duplicate"
    );
}

#[tokio::test]
async fn another_trigger_while_the_execution_is_in_progress_is_refused() {
    let (_capture, _logs) = capture();
    let store = Arc::new(MemoryIdempotencyStore::new());
    let idempotency = Arc::new(Idempotency::new(IdempotencyConfig::new("orders")));
    let (store_in, idem_in) = (Arc::clone(&store), Arc::clone(&idempotency));
    let waiting = move |order: Value, ctx: &Ctx, execution: &Execution| {
        let (store, idempotency) = (Arc::clone(&store_in), Arc::clone(&idem_in));
        let (ctx, execution) = (ctx.clone(), execution.context().clone());
        async move {
            let body = async {
                let approval =
                    execution.create_callback::<bool>().name("approval").await.map_err(halo::Error::internal)?;
                approval.result().await.map_err(halo::Error::internal)
            };
            idempotency.run_with_store(store.as_ref(), &order, Some(&ctx), body).await
        }
    };
    let order = serde_json::json!({ "id": "o-8" });
    let result = LocalRunner::new()
        .max_invocations(3)
        .run(handler((), waiting, &Options::from_env()), event(order.clone()))
        .await;
    assert!(result.is_suspended(), "the execution waits for its approval");
    let again = async { Ok::<_, halo::Error>(true) };
    let err = idempotency.run_with_store(store.as_ref(), &order, None, again).await.unwrap_err();
    assert_eq!(err.code(), "AlreadyInProgress");
}
