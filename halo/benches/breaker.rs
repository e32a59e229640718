//! Circuit breaker cost on the call path (no I/O) and shared-state reads.
//!
//! `cargo bench -p halo-lambda --bench breaker`
//!
//! - `closed/direct` vs `closed/breaker`: a ready future awaited directly
//!   and through a closed breaker (admit, run, classify, record);
//! - `open/reject`: a call refused by an open breaker (goal: under 100 ns);
//! - `shared_reads`: a simulated minute at 1,000 calls/s on one container
//!   with the default 2 s refresh, printing the store reads it made
//!   (bounded by the refresh interval, not by the call rate) next to the
//!   a cache-and-scan design (a full table Scan per 30 s cache miss, plus a
//!   probe per minute).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use halo::BoxFuture;
use halo::breaker::store::{BreakerStore, SharedState};
use halo::breaker::{BreakerPolicy, CircuitBreaker, MemoryBreakerStore};
use halo::durable::StoreError;

fn poll_ready<F: std::future::Future>(future: F) -> F::Output {
    // Every future here is ready at once: poll it without a runtime.
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut context) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => unreachable!("ready futures only"),
    }
}

fn call_path(c: &mut Criterion) {
    let closed = CircuitBreaker::new("payments", BreakerPolicy::default());
    let mut group = c.benchmark_group("closed");
    group.bench_function("direct", |b| b.iter(|| poll_ready(async { Ok::<_, halo::Error>(black_box(42)) })));
    group.bench_function("breaker", |b| {
        b.iter(|| poll_ready(closed.call(async { Ok::<_, halo::Error>(black_box(42)) })).unwrap())
    });
    group.finish();

    let hour = Duration::from_secs(3600);
    let open = CircuitBreaker::new("payments", BreakerPolicy::default().consecutive_failures(1).open_for(hour, hour));
    let _ = poll_ready(open.call(async { Err::<(), _>(halo::Error::upstream("503")) }));
    c.bench_function("open/reject", |b| {
        b.iter(|| poll_ready(open.call(async { Ok::<_, halo::Error>(black_box(42)) })).unwrap_err())
    });
}

/// Counts the reads a store serves.
struct Counting {
    inner: MemoryBreakerStore,
    reads: AtomicU64,
}

impl BreakerStore for Counting {
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<SharedState>, StoreError>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.load(name)
    }
    fn publish<'a>(&'a self, next: &'a SharedState) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.inner.publish(next)
    }
    fn lease_probe<'a>(&'a self, name: &'a str, version: u64, max: u32) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.inner.lease_probe(name, version, max)
    }
}

fn shared_reads(_c: &mut Criterion) {
    // One simulated minute at 1,000 calls/s; the container syncs whenever
    // the refresh interval has passed, as its background task would.
    let store = Arc::new(Counting { inner: MemoryBreakerStore::new(), reads: AtomicU64::new(0) });
    let now = Arc::new(AtomicU64::new(1_800_000_000_000));
    let clock_now = now.clone();
    let policy = BreakerPolicy::default();
    let refresh_ms = 2_000;
    let shared: Arc<dyn BreakerStore> = store.clone();
    let breaker = CircuitBreaker::shared("payments", policy, shared)
        .clock(Arc::new(move || clock_now.load(Ordering::SeqCst)))
        .without_background_refresh();
    let mut last_sync = 0u64;
    for ms in 0..60_000u64 {
        now.store(1_800_000_000_000 + ms, Ordering::SeqCst);
        let _ = poll_ready(breaker.call(async { Ok::<_, halo::Error>(()) }));
        if ms - last_sync >= refresh_ms {
            last_sync = ms;
            let _ = poll_ready(breaker.sync());
        }
    }
    let reads = store.reads.load(Ordering::Relaxed);
    println!(
        "shared_reads: 60000 calls in a minute -> {reads} store reads per container (refresh 2 s); \
         a cache-and-scan design: 2 full table Scans (30 s cache) + 1 probe per minute per container, each Scan reading every breaker item"
    );
    assert!(reads <= 31, "reads are bounded by the refresh interval");
}

criterion_group!(benches, call_path, shared_reads);
criterion_main!(benches);
