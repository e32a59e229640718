//! A saga on DynamoDB (moto) through the fault proxy: a transition whose
//! write is applied but whose answer is lost is retried by the SDK and
//! meets its own record. The run goes on; it is never taken for another
//! run's write (`SagaInProgress`).

use std::sync::atomic::{AtomicU32, Ordering};

use halo::saga::log::SagaStatus;
use halo::saga::{DynamoDbSagaLog, Saga, StepCtx};
use halo_test_support::fault_proxy::{Fault, FaultProxy};
use halo_test_support::moto::{Moto, sdk_config, unique_name};

static RESERVED: AtomicU32 = AtomicU32::new(0);
static CHARGED: AtomicU32 = AtomicU32::new(0);

#[halo::saga_step]
async fn reserve(_ctx: &StepCtx, order: u32) -> Result<u32, halo::Error> {
    RESERVED.fetch_add(1, Ordering::SeqCst);
    Ok(order)
}

#[halo::saga_step]
async fn charge(_ctx: &StepCtx, order: u32) -> Result<u32, halo::Error> {
    CHARGED.fetch_add(1, Ordering::SeqCst);
    Ok(order * 10)
}

#[tokio::test]
async fn a_transition_whose_answer_is_lost_is_the_runs_own() {
    let saga = Saga::<u32>::new("order").step(reserve).step(charge);
    // The first write creates the record; every later one is a transition.
    for (n, fault) in [(2, Fault::AppliedThenDropped), (3, Fault::AppliedThenServerError)] {
        let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
        let client = aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.endpoint()).await);
        let log = DynamoDbSagaLog::new(client, unique_name("saga-faults"));
        log.create_table().await.unwrap();
        let before = (RESERVED.load(Ordering::SeqCst), CHARGED.load(Ordering::SeqCst));
        for _ in 1..n {
            proxy.plan("PutItem", Fault::Delayed(std::time::Duration::ZERO));
        }
        proxy.plan("PutItem", fault);

        let id = format!("order-{n}");
        let output = saga.run(&log, &id, 7).await;
        assert_eq!(output.map_err(|e| e.to_string()), Ok(70), "write {n} {fault:?}: the saga committed");
        let after = (RESERVED.load(Ordering::SeqCst), CHARGED.load(Ordering::SeqCst));
        assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1), "write {n} {fault:?}: each step ran once");
        let record = halo::saga::log::SagaLog::load(&log, &id).await.unwrap().unwrap();
        assert_eq!(record.status, SagaStatus::Committed, "write {n} {fault:?}");
        assert!(proxy.seen().iter().any(|s| s.fault == Some(fault)), "the fault was injected");
    }
}
