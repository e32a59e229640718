//! Circuit breakers sharing state through DynamoDB on moto (loopback):
//! K probes fleet-wide, one transition for simultaneous trips, calls that
//! keep flowing while DynamoDB is down and state that reconciles after it
//! comes back; and the breaker store contract
//! (`halo_test_support::contracts::breaker`) on the DynamoDB store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use halo::breaker::store::BreakerStore;
use halo::breaker::{BreakerPolicy, BreakerState, CircuitBreaker, DynamoDbBreakerStore};
use halo_test_support::moto::{Moto, unique_name};
use halo_test_support::sdk_requests::RequestCounter;

fn clock(now: &Arc<AtomicU64>) -> Arc<dyn halo::platform::Clock> {
    let now = now.clone();
    Arc::new(move || now.load(Ordering::SeqCst))
}

fn policy() -> BreakerPolicy {
    BreakerPolicy::default()
        .consecutive_failures(3)
        .open_for(Duration::from_secs(10), Duration::from_secs(60))
        .without_jitter()
}

async fn store(moto: &Moto, counter: Option<RequestCounter>) -> Arc<DynamoDbBreakerStore> {
    let mut config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config().await);
    if let Some(counter) = counter {
        config = config.interceptor(counter);
    }
    let store = DynamoDbBreakerStore::new(aws_sdk_dynamodb::Client::from_conf(config.build()), unique_name("breakers"));
    store.create_table().await.unwrap();
    Arc::new(store)
}

/// The store contract on the DynamoDB store (a table per behaviour).
mod store_contract {
    halo_test_support::store_contract_tests!(breaker, || super::store(halo_test_support::moto::Moto::shared(), None));
}

fn container(now: &Arc<AtomicU64>, policy: BreakerPolicy, store: &Arc<DynamoDbBreakerStore>) -> CircuitBreaker {
    let store: Arc<dyn BreakerStore> = store.clone();
    CircuitBreaker::shared("payments", policy, store).clock(clock(now)).without_background_refresh()
}

async fn fail(breaker: &CircuitBreaker) {
    let _ = breaker.call(async { Err::<(), _>(halo::Error::upstream("503")) }).await;
}

#[tokio::test]
async fn four_containers_admit_exactly_k_probes_and_simultaneous_trips_make_one_transition() {
    let moto = Moto::shared();
    let counter = RequestCounter::default();
    let store = store(moto, Some(counter.clone())).await;
    let now = Arc::new(AtomicU64::new(1_800_000_000_000));
    let fleet: Vec<CircuitBreaker> = (0..4).map(|_| container(&now, policy().half_open(2, 1), &store)).collect();

    // Two containers trip at the same time: one transition in the table.
    for _ in 0..3 {
        fail(&fleet[0]).await;
        fail(&fleet[1]).await;
    }
    counter.reset();
    for breaker in &fleet {
        breaker.sync().await.unwrap();
    }
    assert_eq!(counter.count("GetItem"), 4, "one read per container per sync");
    let shared = store.load("payments").await.unwrap().unwrap();
    assert_eq!((shared.state, shared.version), (BreakerState::Open, 1));
    assert!(fleet.iter().all(|b| b.state() == BreakerState::Open));

    now.fetch_add(10_000, Ordering::SeqCst);
    for breaker in &fleet {
        breaker.sync().await.unwrap();
    }
    let admitted: usize = fleet.iter().map(|b| (0..5).filter(|_| b.admit().is_ok()).count()).sum();
    assert_eq!(admitted, 2, "exactly K probes across four containers");
    let shared = store.load("payments").await.unwrap().unwrap();
    assert_eq!((shared.state, shared.probes), (BreakerState::HalfOpen, 2));
}

#[tokio::test]
async fn calls_flow_while_dynamodb_is_down_and_the_state_reconciles_after() {
    let moto = Moto::start();
    let store = store(&moto, None).await;
    let now = Arc::new(AtomicU64::new(1_800_000_000_000));
    let breaker = container(&now, policy(), &store);
    breaker.sync().await.unwrap();

    moto.stop();
    assert!(breaker.sync().await.is_err());
    assert!(breaker.is_degraded());
    for _ in 0..5 {
        breaker.call(async { Ok::<_, halo::Error>(()) }).await.unwrap();
    }
    for _ in 0..3 {
        fail(&breaker).await;
    }
    assert_eq!(breaker.state(), BreakerState::Open, "the local state machine works without the store");

    moto.restart();
    store.create_table().await.unwrap(); // the emulator restarts empty
    breaker.sync().await.unwrap();
    assert!(!breaker.is_degraded());
    let shared = store.load("payments").await.unwrap().unwrap();
    assert_eq!(shared.state, BreakerState::Open, "the container's trip reached the table once it was back");
}

#[tokio::test]
async fn probe_successes_of_different_containers_add_up_in_dynamodb() {
    let moto = Moto::shared();
    let store = store(moto, None).await;
    let now = Arc::new(AtomicU64::new(1_800_000_000_000));
    let policy = policy().half_open(2, 2);
    let (a, b) = (container(&now, policy.clone(), &store), container(&now, policy, &store));
    for _ in 0..3 {
        fail(&a).await;
    }
    now.fetch_add(10_000, Ordering::SeqCst);
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    a.call(async { Ok::<_, halo::Error>(()) }).await.unwrap();
    b.call(async { Ok::<_, halo::Error>(()) }).await.unwrap();
    a.sync().await.unwrap();
    assert_eq!(store.load("payments").await.unwrap().unwrap().successes, 1);
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    assert_eq!((a.state(), b.state()), (BreakerState::Closed, BreakerState::Closed));
    let shared = store.load("payments").await.unwrap().unwrap();
    assert_eq!((shared.state, shared.successes), (BreakerState::Closed, 0));
}
