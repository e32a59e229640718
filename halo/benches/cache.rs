//! What a warm read of `halo::cache::Cache` costs, beside its baseline:
//! the same look-up written by hand (a mutex-guarded `HashMap` of `Arc`s).
//!
//! `cargo bench -p halo-lambda --bench cache`
//!
//! - `cache_hit`: `Cache::get` of a cached, fresh key (a lock, a map
//!   look-up, a clock read, an `Arc` clone; the loader is not called:
//!   the bench asserts it ran once, for the first read);
//! - `hashmap_hit`: the hand-written baseline;
//! - `cache_hit_64_keys`: hits spread over 64 keys (the LRU order moves);
//! - `clock_read`: one read of the system clock, which a hit needs for
//!   the time to live and the baseline does not.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt;
use halo::cache::Cache;
use halo::platform::Clock;

fn warm_hits(c: &mut Criterion) {
    let loads = Arc::new(AtomicUsize::new(0));
    let counter = loads.clone();
    let cache: Cache<String> = Cache::new("bench", move |key: String| {
        counter.fetch_add(1, Ordering::Relaxed);
        async move { Ok::<_, halo::Error>(format!("value of {key}")) }
    });
    let hit = || cache.get("post-1").now_or_never().expect("a hit is ready at once").expect("loaded");
    assert_eq!(hit().as_str(), "value of post-1");
    let keys: Vec<String> = (0..64).map(|i| format!("post-{i}")).collect();
    for key in &keys {
        cache.get(key).now_or_never().expect("loads at once").expect("loaded");
    }
    let baseline: Mutex<HashMap<String, Arc<String>>> =
        Mutex::new(keys.iter().map(|k| (k.clone(), Arc::new(format!("value of {k}")))).collect());

    let mut group = c.benchmark_group("cache_warm_read");
    group.bench_function("cache_hit", |b| b.iter(|| black_box(hit())));
    group.bench_function("hashmap_hit", |b| {
        b.iter(|| black_box(baseline.lock().unwrap().get(black_box("post-1")).cloned()))
    });
    group.bench_function("clock_read", |b| b.iter(|| black_box(halo::platform::SystemClock.now_ms())));
    let mut next = 0;
    group.bench_function("cache_hit_64_keys", |b| {
        b.iter(|| {
            next = (next + 1) % keys.len();
            black_box(cache.get(&keys[next]).now_or_never().expect("a hit").expect("loaded"))
        })
    });
    group.finish();
    assert_eq!(loads.load(Ordering::Relaxed), 64, "every warm read was served without the loader");
}

criterion_group!(benches, warm_hits);
criterion_main!(benches);
