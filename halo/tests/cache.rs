//! `halo::cache::Cache`: one load per miss, errors and cancellations that
//! leave nothing behind, time to live and stale-while-revalidate on a
//! manual clock, and bounds that hold under any sequence of reads.
//!
//! The concurrent reads are polled in a known order (`join_all` polls its
//! futures in turn), so "64 callers wait for one load" is what happens,
//! not what a scheduler happened to do.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use futures_util::future::{join, join_all};
use futures_util::{FutureExt, poll};
use halo::cache::Cache;
use halo::platform::ManualClock;
use halo::{Error, ErrorKind};
use proptest::prelude::*;
use tokio::sync::Semaphore;

/// A loader that counts its calls and waits for `gate` (one permit per
/// load) before answering `"<key>#<call>"`.
fn gated(loads: &Arc<AtomicUsize>, gate: &Arc<Semaphore>) -> Cache<String> {
    let (loads, gate) = (loads.clone(), gate.clone());
    Cache::new("gated", move |key: String| {
        let call = loads.fetch_add(1, Ordering::SeqCst) + 1;
        let gate = gate.clone();
        async move {
            gate.acquire().await.expect("the gate stays open").forget();
            Ok::<_, Error>(format!("{key}#{call}"))
        }
    })
}

fn counting(loads: &Arc<AtomicUsize>) -> Cache<String> {
    let loads = loads.clone();
    Cache::new("counting", move |key: String| {
        let call = loads.fetch_add(1, Ordering::SeqCst) + 1;
        async move { Ok::<_, Error>(format!("{key}#{call}")) }
    })
}

#[tokio::test]
async fn sixty_four_concurrent_misses_make_one_load() {
    let (loads, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
    // No time to live: only waiting for the load in flight can answer
    // all 64 with one load.
    let cache = gated(&loads, &gate).ttl(Duration::ZERO);
    let reads = join_all((0..64).map(|_| cache.get("post-1")));
    let open = async { gate.add_permits(1) };
    let (values, ()) = join(reads, open).await;
    assert_eq!(loads.load(Ordering::SeqCst), 1, "one load for 64 concurrent misses");
    assert!(values.iter().all(|v| v.as_ref().expect("loaded").as_str() == "post-1#1"));
}

#[tokio::test]
async fn a_failed_load_reaches_every_waiter_and_is_not_cached() {
    let loads = Arc::new(AtomicUsize::new(0));
    let counter = loads.clone();
    let cache: Cache<String> = Cache::new("failing", move |key: String| {
        let call = counter.fetch_add(1, Ordering::SeqCst) + 1;
        async move {
            tokio::task::yield_now().await;
            if call == 1 { Err(Error::not_found("no such post").with_code("PostNotFound")) } else { Ok(key) }
        }
    });
    let results = join_all((0..8).map(|_| cache.get("post-9"))).await;
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    for result in results {
        let err = result.expect_err("the load failed");
        assert_eq!((err.kind(), err.code(), err.message()), (ErrorKind::NotFound, "PostNotFound", "no such post"));
    }
    assert!(cache.is_empty(), "a failure is not cached");
    assert_eq!(cache.get("post-9").await.expect("the next read loads again").as_str(), "post-9");
    assert_eq!(loads.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_cancelled_load_leaves_the_key_to_the_next_reader() {
    let (loads, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
    let cache = gated(&loads, &gate);
    let mut leader = Box::pin(cache.get("k"));
    let mut waiter = Box::pin(cache.get("k"));
    assert!(poll!(leader.as_mut()).is_pending(), "the leader waits for the gate");
    assert!(poll!(waiter.as_mut()).is_pending(), "the waiter waits for the leader");
    drop(leader); // its invocation timed out
    gate.add_permits(1);
    let value = tokio::time::timeout(Duration::from_secs(10), waiter)
        .await
        .expect("the waiter is not left waiting for a load nobody runs")
        .expect("the waiter loads in the leader's place");
    assert_eq!((value.as_str(), loads.load(Ordering::SeqCst)), ("k#2", 2));
    assert_eq!(cache.get("k").await.expect("cached").as_str(), "k#2");
}

#[tokio::test]
async fn a_value_lives_for_its_ttl_then_is_served_stale_while_one_refresh_runs() {
    let (loads, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(1)));
    let clock = ManualClock::at(1_000_000);
    let cache = gated(&loads, &gate)
        .ttl(Duration::from_secs(10))
        .stale_for(Duration::from_secs(50))
        .clock(Arc::new(clock.clone()));
    assert_eq!(cache.get("k").await.unwrap().as_str(), "k#1");
    clock.advance_ms(9_999);
    assert_eq!(cache.get("k").await.unwrap().as_str(), "k#1", "fresh: no load");
    assert_eq!(loads.load(Ordering::SeqCst), 1);

    clock.advance_ms(1);
    // Stale: served at once while the refresh waits for the gate.
    for _ in 0..5 {
        assert_eq!(cache.get("k").now_or_never().expect("served at once").unwrap().as_str(), "k#1");
    }
    tokio::task::yield_now().await;
    assert_eq!(loads.load(Ordering::SeqCst), 2, "one background refresh for five stale reads");
    gate.add_permits(1);
    let mut refreshed = None;
    for _ in 0..10 {
        tokio::task::yield_now().await;
        let value = cache.get("k").now_or_never().expect("served at once").unwrap();
        if value.as_str() == "k#2" {
            refreshed = Some(value);
            break;
        }
    }
    assert!(refreshed.is_some(), "the refresh replaced the stale value");

    clock.advance_ms(60_000);
    gate.add_permits(1);
    assert_eq!(cache.get("k").await.unwrap().as_str(), "k#3", "past ttl + stale_for a read waits for the load");
}

#[tokio::test]
async fn invalidate_forgets_a_value_and_a_load_in_flight() {
    let loads = Arc::new(AtomicUsize::new(0));
    let cache = counting(&loads);
    assert_eq!(cache.get("k").await.unwrap().as_str(), "k#1");
    cache.invalidate("k");
    assert_eq!(cache.get("k").await.unwrap().as_str(), "k#2");

    let gate = Arc::new(Semaphore::new(0));
    let cache = gated(&loads, &gate);
    let mut reading = Box::pin(cache.get("j"));
    assert!(matches!(poll!(reading.as_mut()), Poll::Pending));
    cache.invalidate("j"); // the data changed while it was being read
    gate.add_permits(2);
    assert_eq!(reading.await.unwrap().as_str(), "j#3", "the reader gets what it loaded");
    assert_eq!(cache.get("j").await.unwrap().as_str(), "j#4", "but it was not kept");
}

#[tokio::test]
async fn a_value_heavier_than_the_byte_bound_is_returned_but_not_kept() {
    let cache: Cache<String> =
        Cache::new("sized", |key: String| async move { Ok::<_, Error>(key.repeat(10)) }).max_bytes(50, String::len);
    assert_eq!(cache.get("abcdef").await.unwrap().len(), 60);
    assert!(cache.is_empty());
    assert_eq!(cache.get("ab").await.unwrap().len(), 20);
    assert_eq!(cache.len(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Whatever keys are read, the cache never holds more entries than its
    /// bound, and every read answers its own key (the byte bound is the
    /// same map's, tested with it).
    #[test]
    fn the_bounds_hold_under_any_reads(reads in proptest::collection::vec((0u8..40, 1usize..30), 1..200)) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let cache: Cache<String> = Cache::new("bounded", |key: String| async move {
            let (_, size) = key.split_once('-').unwrap();
            Ok::<_, Error>("x".repeat(size.parse().unwrap()))
        })
        .max_entries(8)
        .max_bytes(100, String::len);
        for (key, size) in reads {
            let key = format!("{key}-{size}");
            let value = runtime.block_on(cache.get(&key)).unwrap();
            prop_assert_eq!(value.len(), size);
            // At most 8 entries, and at most 100 bytes: 3 values of 30.
            prop_assert!(cache.len() <= 8, "{} entries", cache.len());
        }
    }
}

/// Two containers (two caches) sharing a tier on moto: the second reads
/// what the first loaded (one `GetItem`, no load), until the tier's time
/// to live ends; a tier that cannot be reached only costs a load.
#[cfg(feature = "dynamodb")]
#[tokio::test]
async fn a_shared_tier_serves_every_container_what_one_loaded_until_its_ttl() {
    use halo::cache::SharedTier;
    use halo_test_support::fault_proxy::FaultProxy;
    use halo_test_support::moto::{Moto, sdk_config, unique_name};

    let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.endpoint()).await);
    let tier = SharedTier::new(client, unique_name("cache-tier")).ttl(Duration::from_secs(30));
    tier.create_table().await.unwrap();
    let clock = ManualClock::at(1_800_000_000_000);
    let loads = Arc::new(AtomicUsize::new(0));
    let container = || counting(&loads).ttl(Duration::from_secs(5)).clock(Arc::new(clock.clone())).shared(tier.clone());
    let (first, second) = (container(), container());

    assert_eq!(*first.get("post-1").await.unwrap(), "post-1#1");
    let (gets, puts) = (proxy.count("GetItem"), proxy.count("PutItem"));
    assert_eq!((gets, puts), (1, 1), "a miss everywhere: one read, one write");
    assert_eq!(*second.get("post-1").await.unwrap(), "post-1#1", "the other container's value");
    assert_eq!((loads.load(Ordering::SeqCst), proxy.count("GetItem"), proxy.count("PutItem")), (1, 2, 1));
    assert_eq!(*second.get("post-1").await.unwrap(), "post-1#1");
    assert_eq!(proxy.count("GetItem"), 2, "then from the container itself");

    // Past the tier's time to live, the value is loaded again.
    clock.advance_ms(31_000);
    assert_eq!(*second.get("post-1").await.unwrap(), "post-1#2");

    // A tier that cannot be reached never fails a read.
    let nowhere = aws_sdk_dynamodb::Client::new(&sdk_config("http://127.0.0.1:9").await);
    let unreachable = counting(&loads).shared(SharedTier::new(nowhere, "no-such-table"));
    assert_eq!(*unreachable.get("post-1").await.unwrap(), "post-1#3");
}
