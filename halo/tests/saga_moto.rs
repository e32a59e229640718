//! The saga log contract (`halo_test_support::contracts::saga_log`) on the
//! DynamoDB log, against moto over loopback (one table per test), plus the
//! write counts per saga.

use std::sync::Arc;

use halo::saga::log::SagaLog;
use halo::saga::{DynamoDbSagaLog, MemorySagaLog, Saga};
use halo_test_support::contracts::saga_log::world::{CrashLog, Trip, World, booking, in_ctx, trip};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::sdk_requests::RequestCounter;

async fn client(counter: Option<RequestCounter>) -> aws_sdk_dynamodb::Client {
    let config = Moto::shared().sdk_config().await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&config);
    if let Some(counter) = counter {
        builder = builder.interceptor(counter);
    }
    aws_sdk_dynamodb::Client::from_conf(builder.build())
}

async fn dynamodb_log() -> Arc<DynamoDbSagaLog> {
    let log = DynamoDbSagaLog::new(client(None).await, unique_name("sagas"));
    log.create_table().await.expect("create the saga table");
    Arc::new(log)
}

halo_test_support::store_contract_tests!(saga_log, dynamodb_log);

/// A saga of `n` booking steps.
fn saga_of(world: &Arc<World>, n: usize) -> Saga<Trip> {
    let names: Vec<&'static str> = (0..n).map(|i| &*Box::leak(format!("step{i}").into_boxed_str())).collect();
    let mut saga = Saga::<Trip>::new(format!("saga-{n}"));
    for name in names {
        saga = saga.step(booking(world, name));
    }
    saga
}

/// DynamoDB requests per saga, counted on the wire: success and rollback
/// (last step fails), N = 3 and N = 10. Prints the table of BENCHMARKS.md.
#[tokio::test]
async fn dynamodb_writes_per_saga() {
    let counter = RequestCounter::default();
    let log = DynamoDbSagaLog::new(client(Some(counter.clone())).await, unique_name("sagas-count"));
    log.create_table().await.unwrap();
    for n in [3usize, 10] {
        for rollback in [false, true] {
            let world = Arc::new(World::default());
            if rollback {
                world.fail_step(&format!("step{}", n - 1), u32::MAX);
            }
            counter.reset();
            let id = unique_name("count");
            let result = in_ctx("r", saga_of(&world, n).run(&log, &id, trip(&id))).await;
            assert_eq!(result.is_ok(), !rollback);
            let (writes, reads) = (counter.count("PutItem"), counter.count("GetItem"));
            // Success: N + 1 writes. Rollback at the last step: 2N writes
            // (N - 1 compensations).
            let expected = if rollback { 2 * n } else { n + 1 };
            assert_eq!(writes, expected, "n={n} rollback={rollback}: {:?}", counter.by_operation());
            assert_eq!(reads, 1, "one consistent read to start");
            // Step Functions Standard bills a state transition per state
            // entered: the N tasks + Succeed, or N tasks + N - 1 cancel
            // tasks + Fail.
            let sfn = if rollback { n + (n - 1) + 1 } else { n + 1 };
            println!(
                "saga writes: n={n} rollback={rollback} dynamodb_writes={writes} step_functions_transitions={sfn}"
            );
        }
    }
}

/// The memory log writes exactly as often (same executor).
#[tokio::test]
async fn memory_log_writes_match() {
    let world = Arc::new(World::default());
    let counting = CrashLog::new(Arc::new(MemorySagaLog::new()) as Arc<dyn SagaLog>, None);
    in_ctx("r", saga_of(&world, 10).run(&counting, "m", trip("m"))).await.unwrap();
    assert_eq!(counting.writes(), 11);
}
