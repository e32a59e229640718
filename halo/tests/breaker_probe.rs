//! The health probe against loopback HTTP stubs: a 500 and a timeout are
//! unhealthy and open the breaker; a 200 is healthy and lets an open
//! breaker go half-open.

use std::sync::Arc;
use std::time::Duration;

use halo::breaker::store::BreakerStore;
use halo::breaker::{BreakerPolicy, BreakerState, Health, MemoryBreakerStore, probe};
use halo_test_support::http_stub::HttpStub;

/// A stub answering every request with `status`, or never answering.
async fn stub(status: Option<u16>) -> String {
    HttpStub::start(move |_, _| status.map(|s| (s, "ok".to_owned()))).await.url("/health")
}

#[tokio::test]
async fn a_500_or_a_timeout_opens_the_breaker_and_a_200_lets_it_probe() {
    let store = Arc::new(MemoryBreakerStore::new());
    let policy = BreakerPolicy::default().open_for(Duration::from_secs(30), Duration::from_secs(300));
    let timeout = Duration::from_millis(300);

    let healthy = stub(Some(200)).await;
    assert_eq!(probe(store.as_ref(), "payments", &healthy, &policy, timeout).await.unwrap(), Health::Healthy);
    assert!(store.load("payments").await.unwrap().is_none(), "healthy and closed: nothing to write");

    let failing = stub(Some(500)).await;
    assert_eq!(probe(store.as_ref(), "payments", &failing, &policy, timeout).await.unwrap(), Health::Unhealthy);
    let shared = store.load("payments").await.unwrap().unwrap();
    assert_eq!((shared.state, shared.trips), (BreakerState::Open, 1));

    assert_eq!(probe(store.as_ref(), "payments", &healthy, &policy, timeout).await.unwrap(), Health::Healthy);
    assert_eq!(store.load("payments").await.unwrap().unwrap().state, BreakerState::HalfOpen);

    let hanging = stub(None).await;
    assert_eq!(probe(store.as_ref(), "payments", &hanging, &policy, timeout).await.unwrap(), Health::Unhealthy);
    let shared = store.load("payments").await.unwrap().unwrap();
    assert_eq!((shared.state, shared.trips), (BreakerState::Open, 2), "a failed half-open period trips for longer");

    let not_found = stub(Some(404)).await;
    assert_eq!(probe(store.as_ref(), "other", &not_found, &policy, timeout).await.unwrap(), Health::Healthy);
}
