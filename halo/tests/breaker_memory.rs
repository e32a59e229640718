//! Circuit breaker behaviour with a controlled clock and the in-memory
//! shared store: tripping rules, fast failure, half-open probes across
//! "containers", one transition for simultaneous trips, degraded mode; and
//! the breaker store contract (`halo_test_support::contracts::breaker`) on
//! the in-memory store.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use halo::breaker::store::BreakerStore;
use halo::breaker::{BreakerPolicy, BreakerState, CircuitBreaker, MemoryBreakerStore};

/// A clock the test moves.
#[derive(Clone)]
struct TestClock(Arc<AtomicU64>);

impl TestClock {
    fn new() -> TestClock {
        TestClock(Arc::new(AtomicU64::new(1_800_000_000_000)))
    }
    fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
    fn clock(&self) -> Arc<dyn halo::platform::Clock> {
        Arc::new(self.clone())
    }
}

impl halo::platform::Clock for TestClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// The downstream: counts the calls that reach it.
#[derive(Clone, Default)]
struct Downstream(Arc<AtomicU32>);

impl Downstream {
    async fn answer(&self, result: Result<(), halo::Error>) -> Result<(), halo::Error> {
        self.0.fetch_add(1, Ordering::SeqCst);
        result
    }
    fn calls(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

fn failing() -> Result<(), halo::Error> {
    Err(halo::Error::upstream("payments answered 503"))
}

fn policy() -> BreakerPolicy {
    BreakerPolicy::default()
        .consecutive_failures(3)
        .open_for(Duration::from_secs(10), Duration::from_secs(60))
        .without_jitter()
}

fn local(clock: &TestClock, policy: BreakerPolicy) -> CircuitBreaker {
    CircuitBreaker::new("payments", policy).clock(clock.clock())
}

fn container(clock: &TestClock, policy: BreakerPolicy, store: &Arc<MemoryBreakerStore>) -> CircuitBreaker {
    let store: Arc<dyn BreakerStore> = store.clone();
    CircuitBreaker::shared("payments", policy, store).clock(clock.clock()).without_background_refresh()
}

/// The store contract on the in-memory store.
mod store_contract {
    halo_test_support::store_contract_tests!(breaker, || async {
        std::sync::Arc::new(halo::breaker::MemoryBreakerStore::new())
    });
}

#[tokio::test]
async fn trips_after_n_consecutive_failures_and_then_fails_fast_without_calling() {
    let clock = TestClock::new();
    let breaker = local(&clock, policy());
    let downstream = Downstream::default();
    for _ in 0..2 {
        breaker.call(downstream.answer(failing())).await.unwrap_err();
    }
    breaker.call(downstream.answer(Ok(()))).await.unwrap(); // a success resets the count
    for _ in 0..2 {
        breaker.call(downstream.answer(failing())).await.unwrap_err();
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
    breaker.call(downstream.answer(failing())).await.unwrap_err();
    assert_eq!(breaker.state(), BreakerState::Open);
    assert_eq!(downstream.calls(), 6);

    for _ in 0..100 {
        let err = breaker.call(downstream.answer(Ok(()))).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (503, "CircuitOpen"));
        assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
    }
    assert_eq!(downstream.calls(), 6, "an open circuit does not touch the downstream");
}

#[tokio::test]
async fn trips_on_the_failure_rate_of_the_window_with_a_minimum_of_calls() {
    let clock = TestClock::new();
    let rate =
        BreakerPolicy::default().consecutive_failures(0).failure_rate(0.5, Duration::from_secs(10), 6).without_jitter();
    let breaker = local(&clock, rate);
    let downstream = Downstream::default();
    // F S F S F: 60 % failures but only 5 calls: below the minimum.
    for ok in [false, true, false, true, false] {
        let _ = breaker.call(downstream.answer(if ok { Ok(()) } else { failing() })).await;
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
    // Calls older than the window no longer count.
    clock.advance(Duration::from_secs(11));
    for ok in [true, true, true, false, true] {
        let _ = breaker.call(downstream.answer(if ok { Ok(()) } else { failing() })).await;
    }
    assert_eq!(breaker.state(), BreakerState::Closed, "1 failure in 5 calls of the window");
    for _ in 0..2 {
        let _ = breaker.call(downstream.answer(failing())).await;
    }
    assert_eq!(breaker.state(), BreakerState::Closed, "3 of 7 < 50 %");
    let _ = breaker.call(downstream.answer(failing())).await;
    assert_eq!(breaker.state(), BreakerState::Open, "4 of 8 = 50 %");
}

#[tokio::test]
async fn client_errors_do_not_trip_but_throttling_and_timeouts_do() {
    let clock = TestClock::new();
    let breaker = local(&clock, policy());
    for _ in 0..10 {
        breaker.call(async { Err::<(), _>(halo::Error::not_found("no such order")) }).await.unwrap_err();
        breaker.call(async { Err::<(), _>(halo::Error::unprocessable("bad amount")) }).await.unwrap_err();
    }
    assert_eq!(breaker.state(), BreakerState::Closed);
    breaker.call(async { Err::<(), _>(halo::Error::too_many_requests("slow down")) }).await.unwrap_err();
    breaker.call(async { Err::<(), _>(halo::Error::timeout("no answer")) }).await.unwrap_err();
    breaker.call(async { Err::<(), _>(halo::Error::upstream("502")) }).await.unwrap_err();
    assert_eq!(breaker.state(), BreakerState::Open);

    // A classifier of your own.
    let strict = local(&clock, policy().classifier(|err| err.status() >= 400));
    for _ in 0..3 {
        strict.call(async { Err::<(), _>(halo::Error::not_found("gone")) }).await.unwrap_err();
    }
    assert_eq!(strict.state(), BreakerState::Open);
}

#[tokio::test]
async fn half_open_closes_after_m_successes_and_a_failed_probe_reopens_for_longer() {
    let clock = TestClock::new();
    let breaker = local(&clock, policy().half_open(2, 2));
    let downstream = Downstream::default();
    for _ in 0..3 {
        let _ = breaker.call(downstream.answer(failing())).await;
    }
    clock.advance(Duration::from_secs(10));
    // Half-open: one probe fails: open again, for twice as long.
    breaker.call(downstream.answer(failing())).await.unwrap_err();
    assert_eq!(breaker.state(), BreakerState::Open);
    let err = breaker.call(downstream.answer(Ok(()))).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(20)));
    clock.advance(Duration::from_secs(20));
    // Two probes admitted, the third call is rejected while they are out.
    let first = breaker.admit().unwrap();
    let second = breaker.admit().unwrap();
    assert_eq!((first, second), (halo::breaker::Admission::Probe, halo::breaker::Admission::Probe));
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    // Through `call`, two successes close it.
    let breaker = local(&clock, policy().half_open(2, 2));
    for _ in 0..3 {
        let _ = breaker.call(downstream.answer(failing())).await;
    }
    clock.advance(Duration::from_secs(10));
    breaker.call(downstream.answer(Ok(()))).await.unwrap();
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    breaker.call(downstream.answer(Ok(()))).await.unwrap();
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn four_containers_sharing_the_store_admit_exactly_k_probes() {
    let clock = TestClock::new();
    let store = Arc::new(MemoryBreakerStore::new());
    let fleet: Vec<CircuitBreaker> = (0..4).map(|_| container(&clock, policy().half_open(2, 1), &store)).collect();
    // Container 0 trips and publishes; the others adopt OPEN at their sync.
    for _ in 0..3 {
        let _ = fleet[0].call(async { failing() }).await;
    }
    for breaker in &fleet {
        breaker.sync().await.unwrap();
    }
    assert!(fleet.iter().all(|b| b.state() == BreakerState::Open));
    clock.advance(Duration::from_secs(10));
    // Each container syncs: the fleet goes half-open once; probe slots are
    // leased fleet-wide.
    for breaker in &fleet {
        breaker.sync().await.unwrap();
    }
    let downstream = Downstream::default();
    let mut admitted = 0;
    for breaker in &fleet {
        for _ in 0..5 {
            if breaker.admit().is_ok() {
                admitted += 1;
            }
        }
    }
    assert_eq!(admitted, 2, "exactly K probes across the four containers");
    assert_eq!(downstream.calls(), 0);
    assert!(fleet.iter().all(|b| b.state() == BreakerState::HalfOpen));
}

#[tokio::test]
async fn two_containers_tripping_at_once_make_one_transition() {
    let clock = TestClock::new();
    let store = Arc::new(MemoryBreakerStore::new());
    let (a, b) = (container(&clock, policy(), &store), container(&clock, policy(), &store));
    for _ in 0..3 {
        let _ = a.call(async { failing() }).await;
        let _ = b.call(async { failing() }).await;
    }
    assert_eq!((a.state(), b.state()), (BreakerState::Open, BreakerState::Open));
    a.sync().await.unwrap();
    b.sync().await.unwrap();
    let shared = store.load("payments").await.unwrap().unwrap();
    assert_eq!((shared.state, shared.version), (BreakerState::Open, 1));
    assert_eq!(store.writes(), 1, "one transition in the store");
}

#[tokio::test]
async fn a_store_outage_keeps_calls_flowing_on_local_state_and_reconciles() {
    let clock = TestClock::new();
    let store = Arc::new(MemoryBreakerStore::new());
    let breaker = container(&clock, policy(), &store);
    let downstream = Downstream::default();
    store.set_available(false);
    assert!(breaker.sync().await.is_err());
    assert!(breaker.is_degraded());
    for _ in 0..5 {
        breaker.call(downstream.answer(Ok(()))).await.unwrap();
    }
    assert_eq!(downstream.calls(), 5, "calls flow while the store is down");
    for _ in 0..3 {
        let _ = breaker.call(downstream.answer(failing())).await;
    }
    assert_eq!(breaker.state(), BreakerState::Open, "the local state machine still trips");
    store.set_available(true);
    breaker.sync().await.unwrap();
    assert!(!breaker.is_degraded());
    let shared = store.load("payments").await.unwrap().unwrap();
    assert_eq!(shared.state, BreakerState::Open, "the trip was published once the store was back");
}

/// Trips `breaker` (3 failures) and moves the clock past the open time.
async fn trip_and_wait(breaker: &CircuitBreaker, clock: &TestClock) {
    for _ in 0..3 {
        let _ = breaker.call(async { failing() }).await;
    }
    assert_eq!(breaker.state(), BreakerState::Open);
    clock.advance(Duration::from_secs(10));
}

#[tokio::test]
async fn a_probe_cancelled_mid_call_frees_its_slot() {
    let clock = TestClock::new();
    let breaker = local(&clock, policy());
    trip_and_wait(&breaker, &clock).await;
    // The only probe starts, then its future is dropped (a timeout, a
    // `select!`): the downstream never answered.
    {
        let probe = std::pin::pin!(breaker.call(std::future::pending::<Result<(), halo::Error>>()));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(probe.poll(&mut cx).is_pending());
    }
    assert_eq!(breaker.state(), BreakerState::HalfOpen);
    let downstream = Downstream::default();
    breaker.call(downstream.answer(Ok(()))).await.expect("the freed slot admits the next probe");
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn an_undecided_half_open_period_starts_over() {
    let clock = TestClock::new();
    let breaker = local(&clock, policy().half_open_timeout(Duration::from_secs(30)));
    trip_and_wait(&breaker, &clock).await;
    // A probe admitted and never run holds the only slot...
    assert_eq!(breaker.admit().unwrap(), halo::breaker::Admission::Probe);
    let downstream = Downstream::default();
    let err = breaker.call(downstream.answer(Ok(()))).await.unwrap_err();
    assert_eq!(err.code(), "CircuitOpen");
    clock.advance(Duration::from_secs(29));
    assert_eq!(breaker.call(downstream.answer(Ok(()))).await.unwrap_err().code(), "CircuitOpen");
    // ...until the period ends undecided: a new one admits a probe again.
    clock.advance(Duration::from_secs(1));
    breaker.call(downstream.answer(Ok(()))).await.expect("a new half-open period");
    assert_eq!(breaker.state(), BreakerState::Closed);
    assert_eq!(downstream.calls(), 1);
}

#[tokio::test]
async fn a_probe_slot_leased_by_a_container_that_never_runs_it_is_released() {
    let clock = TestClock::new();
    let store = Arc::new(MemoryBreakerStore::new());
    let (a, b) = (container(&clock, policy(), &store), container(&clock, policy(), &store));
    trip_and_wait(&a, &clock).await;
    a.sync().await.unwrap(); // publishes OPEN, then (open time over) HALF_OPEN, and leases the one slot
    b.sync().await.unwrap(); // adopts HALF_OPEN: no slot left
    assert_eq!((a.state(), b.state()), (BreakerState::HalfOpen, BreakerState::HalfOpen));
    // Container A is frozen or recycled and never runs its probe.
    let downstream = Downstream::default();
    assert_eq!(b.call(downstream.answer(Ok(()))).await.unwrap_err().code(), "CircuitOpen");
    clock.advance(Duration::from_secs(30));
    b.sync().await.unwrap(); // the period ended undecided: B starts a new one and leases its slot
    b.call(downstream.answer(Ok(()))).await.expect("B probes");
    assert_eq!(b.state(), BreakerState::Closed);
    b.sync().await.unwrap();
    a.sync().await.unwrap();
    assert_eq!(a.state(), BreakerState::Closed, "A adopts the fleet's decision");
    assert_eq!(downstream.calls(), 1);
}

#[tokio::test]
async fn probe_successes_of_different_containers_add_up_to_close() {
    let clock = TestClock::new();
    let store = Arc::new(MemoryBreakerStore::new());
    let policy = policy().half_open(2, 2);
    let (a, b) = (container(&clock, policy.clone(), &store), container(&clock, policy, &store));
    trip_and_wait(&a, &clock).await;
    a.sync().await.unwrap(); // OPEN, then HALF_OPEN; A leases one of the two slots
    b.sync().await.unwrap(); // B leases the other
    let downstream = Downstream::default();
    a.call(downstream.answer(Ok(()))).await.unwrap();
    b.call(downstream.answer(Ok(()))).await.unwrap();
    // One success each: neither container alone has the two to close.
    assert_eq!((a.state(), b.state()), (BreakerState::HalfOpen, BreakerState::HalfOpen));
    a.sync().await.unwrap(); // the fleet's count: 1
    assert_eq!(a.state(), BreakerState::HalfOpen);
    b.sync().await.unwrap(); // 2: B closes the fleet
    assert_eq!(b.state(), BreakerState::Closed);
    a.sync().await.unwrap();
    assert_eq!(a.state(), BreakerState::Closed);
    assert_eq!(store.load("payments").await.unwrap().unwrap().state, BreakerState::Closed);
    assert_eq!(downstream.calls(), 2);
}
