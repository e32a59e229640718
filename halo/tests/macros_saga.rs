//! `#[halo::saga_step]` at run time: macro steps run in a saga with their
//! compensations, retries and side-effect flag. (Its compile-time
//! behaviour is in halo-macros' UI tests.)

use std::sync::Mutex;

use halo::saga::{MemorySagaLog, Saga, SagaError, Step, StepCtx};

static CALLS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn call(what: String) {
    CALLS.lock().unwrap().push(what);
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Order {
    id: String,
    fail_at: Option<String>,
}

fn fails(order: &Order, step: &str) -> bool {
    order.fail_at.as_deref() == Some(step)
}

#[halo::saga_step(compensate = release_stock)]
async fn reserve_stock(ctx: &StepCtx, order: Order) -> Result<String, halo::Error> {
    call(format!("{}:reserve", order.id));
    Ok(format!("stock:{}", ctx.idempotency_token()))
}

async fn release_stock(_ctx: &StepCtx, order: Order, reservation: Option<String>) -> Result<(), halo::Error> {
    call(format!("{}:release:{}", order.id, reservation.unwrap_or_default()));
    Ok(())
}

#[halo::saga_step(compensate = refund, retry(attempts = 3, initial_delay_ms = 1), side_effects = true)]
async fn charge(ctx: &StepCtx, order: Order) -> Result<u32, halo::Error> {
    call(format!("{}:charge:{}", order.id, ctx.attempt()));
    if fails(&order, "charge") { Err(halo::Error::upstream("gateway down")) } else { Ok(ctx.attempt()) }
}

async fn refund(_ctx: &StepCtx, order: Order, charged: Option<u32>) -> Result<(), halo::Error> {
    call(format!("{}:refund:{charged:?}", order.id));
    Ok(())
}

#[halo::saga_step]
async fn notify(_ctx: &StepCtx, order: Order) -> Result<(), halo::Error> {
    if fails(&order, "notify") { Err(halo::Error::unavailable("mail down")) } else { Ok(()) }
}

type Done = (((Order, String), u32), ());

fn order_saga() -> Saga<Order, Done> {
    Saga::<Order>::new("order")
        .step_with(reserve_stock, Order::clone)
        .step_with(charge, |(order, _): &(Order, String)| order.clone())
        .step_with(notify, |((order, _), _): &((Order, String), u32)| order.clone())
}

fn calls_of(id: &str) -> Vec<String> {
    CALLS.lock().unwrap().iter().filter(|c| c.starts_with(&format!("{id}:"))).cloned().collect()
}

#[tokio::test]
async fn macro_steps_run_and_compensate() {
    let log = MemorySagaLog::new();
    let (((order, stock), charged), ()) =
        order_saga().run(&log, "o-1", Order { id: "o1".into(), fail_at: None }).await.unwrap();
    assert_eq!((order.id.as_str(), stock.as_str(), charged), ("o1", "stock:o-1/reserve_stock", 1));

    // The failing, side-effecting charge is retried 3 times, then refunded
    // (no output), then the stock is released, in reverse order.
    let err = order_saga().run(&log, "o-2", Order { id: "o2".into(), fail_at: Some("charge".into()) }).await;
    assert!(matches!(err, Err(SagaError::RolledBack { ref failed_step, .. }) if failed_step == "charge"), "{err:?}");
    assert_eq!(
        calls_of("o2"),
        vec![
            "o2:reserve",
            "o2:charge:1",
            "o2:charge:2",
            "o2:charge:3",
            "o2:refund:None",
            "o2:release:stock:o-2/reserve_stock"
        ]
    );

    // A failing read-only step: the completed steps are compensated.
    let err = order_saga().run(&log, "o-3", Order { id: "o3".into(), fail_at: Some("notify".into()) }).await;
    assert!(matches!(err, Err(SagaError::RolledBack { ref failed_step, .. }) if failed_step == "notify"), "{err:?}");
    assert_eq!(
        calls_of("o3"),
        vec!["o3:reserve", "o3:charge:1", "o3:refund:Some(1)", "o3:release:stock:o-3/reserve_stock"]
    );
}

#[tokio::test]
async fn a_macro_step_stays_callable() {
    let ctx = StepCtx::for_test("s", "charge");
    let order = Order { id: "direct".into(), fail_at: None };
    assert_eq!(charge.call(&ctx, order.clone()).await.unwrap(), 1);
    assert_eq!(charge.name(), "charge");
    assert!(charge.options().has_side_effects());
}

#[halo::saga_step(
    retry(attempts = 3, initial_delay = "50ms", max_delay = "2s", multiplier = 1.5, jitter = false),
    compensation_retry(attempts = 4, initial_delay = "1s", max_delay = "1m"),
    budget = "2s"
)]
async fn timed_by_strings(_ctx: &StepCtx, order: Order) -> Result<String, halo::Error> {
    Ok(order.id)
}

#[halo::saga_step(
    retry(attempts = 3, initial_delay_ms = 50, max_delay_ms = 2000, multiplier = 1.5, jitter = false),
    compensation_retry(attempts = 4, initial_delay_ms = 1000, max_delay_ms = 60000),
    budget_ms = 2000
)]
async fn timed_by_ms(_ctx: &StepCtx, order: Order) -> Result<String, halo::Error> {
    Ok(order.id)
}

#[test]
fn string_durations_and_their_ms_aliases_give_the_same_options() {
    use halo::retry::Backoff;
    use halo::saga::StepOptions;
    use std::time::Duration;

    let by_hand = StepOptions::default()
        .retry(
            Backoff::new(3)
                .initial_delay(Duration::from_millis(50))
                .max_delay(Duration::from_secs(2))
                .multiplier(1.5)
                .without_jitter(),
        )
        .compensation_retry(Backoff::new(4).initial_delay(Duration::from_secs(1)).max_delay(Duration::from_secs(60)))
        .budget(Duration::from_secs(2));
    let by_hand = format!("{by_hand:?}");
    assert_ne!(by_hand, format!("{:?}", StepOptions::default()));
    assert_eq!(format!("{:?}", timed_by_strings.options()), by_hand);
    assert_eq!(format!("{:?}", timed_by_ms.options()), by_hand);
}

/// Renamed from `reserve_seat`: the log keeps the name it had.
#[halo::saga_step(name = "reserve_seat")]
async fn hold_seat(ctx: &StepCtx, order: Order) -> Result<String, halo::Error> {
    Ok(format!("{}:{}", order.id, ctx.idempotency_token()))
}

#[tokio::test]
async fn the_log_records_the_step_name_given_else_the_function_name() {
    use halo::saga::log::SagaLog;

    assert_eq!(hold_seat.name(), "reserve_seat");
    assert_eq!(notify.name(), "notify");
    let log = MemorySagaLog::new();
    let saga = Saga::<Order>::new("seats")
        .step_with(hold_seat, Order::clone)
        .step_with(notify, |(order, _): &(Order, String)| order.clone());
    let ((_, seat), ()) = saga.run(&log, "s-1", Order { id: "o9".into(), fail_at: None }).await.unwrap();
    assert_eq!(seat, "o9:s-1/reserve_seat", "the idempotency token has the given name too");
    let record = log.load("s-1").await.unwrap().expect("the saga's record");
    let names: Vec<&str> = record.steps.iter().map(|step| step.name.as_str()).collect();
    assert_eq!(names, ["reserve_seat", "notify"]);
}
