//! The contract of [`halo::breaker::store::BreakerStore`]: what circuit breakers
//! shared by a fleet of containers rely on from the store of their state.
//!
//! - [`load`](BreakerStore::load) reads a breaker's record back exactly as
//!   published, every field included.
//! - [`publish`](BreakerStore::publish) writes a record whose version is the
//!   stored one plus one, or any record when none is stored (a new breaker,
//!   or a store that lost its data); any other write is refused
//!   (`Ok(false)`) and changes nothing. Of concurrent publishes of one
//!   version exactly one wins.
//! - [`lease_probe`](BreakerStore::lease_probe) takes one probe slot of a
//!   half-open period (a version in state `HalfOpen`) while fewer than
//!   `max` are taken, atomically, and never changes the version; it refuses
//!   any other version or state and creates nothing.
//! - [`count_probe_success`](BreakerStore::count_probe_success) either
//!   counts (one per call, fleet-wide, atomically, only in the half-open
//!   period asked for) or, the trait's default, never counts (`None`
//!   always): both are correct; a store that counts must count right.
//!
//! Every behaviour takes a fresh, empty store; times are plain numbers in
//! the records, so none sleeps. Run them all with
//! [`store_contract_tests!`](crate::store_contract_tests)`(breaker, make_store)`
//! (one test each) or [`run_all`].

use std::sync::Arc;

use halo::breaker::BreakerState;
use halo::breaker::store::{BreakerStore, SharedState};

use super::at_once;

/// The time the behaviours' records are written at, in epoch milliseconds.
pub const NOW_MS: u64 = 1_800_000_000_000;

/// The list of behaviours, written once for the test macro, [`run_all`] and
/// [`BEHAVIOURS`] (written by it).
#[doc(hidden)]
#[macro_export]
macro_rules! __breaker_contract {
    ($($how:tt)*) => {
        $crate::__contract! { $($how)* ; breaker, dyn $crate::__private::halo::breaker::store::BreakerStore ;
            load_of_an_unknown_breaker_is_none,
            first_publish_creates_the_record,
            publish_without_a_record_takes_any_version,
            publish_of_the_next_version_replaces_the_record,
            publish_of_any_other_version_changes_nothing,
            a_publish_that_finds_its_own_write_is_accepted,
            records_round_trip_every_field,
            breakers_are_independent,
            lease_probe_grants_slots_up_to_max,
            lease_probe_is_refused_for_another_period,
            lease_probe_is_refused_unless_half_open,
            a_new_half_open_period_starts_with_the_published_counts,
            concurrent_publishes_of_one_version_have_one_winner,
            concurrent_probe_leases_grant_exactly_max,
            probe_successes_are_counted_per_period_or_not_at_all,
            concurrent_probe_successes_each_count_once,
        }
    };
}

crate::__breaker_contract!(items);

/// A record of breaker `name` in `state` at `version`, open for 10 s after
/// [`NOW_MS`], after one trip, with no probe leased or counted.
fn shared(name: &str, state: BreakerState, version: u64) -> SharedState {
    let mut shared = SharedState::new(name, state, version);
    shared.open_until_ms = NOW_MS + 10_000;
    shared.trips = 1;
    shared.writer = "container-a".to_owned();
    shared
}

/// `state` with some fields changed (the record is `#[non_exhaustive]`).
fn updated(mut state: SharedState, change: impl FnOnce(&mut SharedState)) -> SharedState {
    change(&mut state);
    state
}

async fn load(store: &dyn BreakerStore, name: &str) -> Option<SharedState> {
    store.load(name).await.unwrap_or_else(|err| panic!("load of `{name}` failed: {err}"))
}

async fn publish(store: &dyn BreakerStore, next: &SharedState) -> bool {
    store
        .publish(next)
        .await
        .unwrap_or_else(|err| panic!("publish of `{}` version {} failed: {err}", next.name, next.version))
}

async fn lease(store: &dyn BreakerStore, name: &str, version: u64, max: u32) -> bool {
    store
        .lease_probe(name, version, max)
        .await
        .unwrap_or_else(|err| panic!("lease_probe of `{name}` version {version} failed: {err}"))
}

async fn count_success(store: &dyn BreakerStore, name: &str, version: u64) -> Option<u32> {
    store
        .count_probe_success(name, version)
        .await
        .unwrap_or_else(|err| panic!("count_probe_success of `{name}` version {version} failed: {err}"))
}

/// Publishes `next`, which must be accepted.
async fn published(store: &dyn BreakerStore, next: &SharedState) {
    assert!(publish(store, next).await, "publish of `{}` version {} is accepted", next.name, next.version);
}

/// A breaker never published has no record.
pub async fn load_of_an_unknown_breaker_is_none(store: Arc<dyn BreakerStore>) {
    assert_eq!(load(&*store, "payments").await, None);
}

/// The first publish of a breaker (version 1) is accepted and reads back
/// as published.
pub async fn first_publish_creates_the_record(store: Arc<dyn BreakerStore>) {
    let first = shared("payments", BreakerState::Open, 1);
    assert!(publish(&*store, &first).await, "the first transition is written");
    assert_eq!(load(&*store, "payments").await, Some(first));
}

/// Without a record any version is accepted: a store that lost its data
/// takes the container's state, the best there is.
pub async fn publish_without_a_record_takes_any_version(store: Arc<dyn BreakerStore>) {
    let restored = shared("payments", BreakerState::Open, 7);
    assert!(publish(&*store, &restored).await, "version 7 on an empty store is written");
    assert_eq!(load(&*store, "payments").await, Some(restored));
}

/// A record whose version is the stored one plus one replaces it.
pub async fn publish_of_the_next_version_replaces_the_record(store: Arc<dyn BreakerStore>) {
    published(&*store, &shared("payments", BreakerState::Open, 1)).await;
    published(&*store, &shared("payments", BreakerState::HalfOpen, 2)).await;
    let closed = updated(shared("payments", BreakerState::Closed, 3), |s| (s.open_until_ms, s.trips) = (0, 0));
    published(&*store, &closed).await;
    assert_eq!(load(&*store, "payments").await, Some(closed));
}

/// A record of any other version (the same, an older, one skipped ahead) is
/// refused with `Ok(false)` and changes nothing: another container wrote
/// first.
pub async fn publish_of_any_other_version_changes_nothing(store: Arc<dyn BreakerStore>) {
    published(&*store, &shared("payments", BreakerState::Open, 1)).await;
    let current = shared("payments", BreakerState::HalfOpen, 2);
    published(&*store, &current).await;
    for version in [2, 1, 4, 100] {
        let stale = updated(shared("payments", BreakerState::Open, version), |s| {
            s.trips = 9;
            s.writer = "container-b".to_owned();
        });
        assert!(!publish(&*store, &stale).await, "version {version} over version 2 is refused");
    }
    assert_eq!(load(&*store, "payments").await, Some(current), "refused publishes change nothing");
}

/// A publish whose stored record has its version and its writer is its own
/// earlier attempt, applied though its answer was lost: accepted, and the
/// record stays as it is; the same version by another writer is refused.
pub async fn a_publish_that_finds_its_own_write_is_accepted(store: Arc<dyn BreakerStore>) {
    published(&*store, &shared("payments", BreakerState::Closed, 1)).await;
    let mine = shared("payments", BreakerState::Open, 2);
    published(&*store, &mine).await;
    assert!(publish(&*store, &mine).await, "the same transition sent again is this writer's own");
    let theirs = updated(mine.clone(), |s| s.writer = "container-b".to_owned());
    assert!(!publish(&*store, &theirs).await, "the same version by another writer is refused");
    assert_eq!(load(&*store, "payments").await, Some(mine));
}

/// Every field reads back exactly as published, for every state, with
/// numbers past what a double holds exactly (versions over 2^53).
pub async fn records_round_trip_every_field(store: Arc<dyn BreakerStore>) {
    let records = [
        updated(shared("payments", BreakerState::Closed, 1), |s| {
            s.open_until_ms = 0;
            s.trips = 0;
        }),
        updated(shared("inventory/eu-west-1", BreakerState::Open, (1 << 53) + 1), |s| {
            s.open_until_ms = 253_402_300_799_000;
            s.trips = 1_000_000;
        }),
        updated(shared("shipping api ü", BreakerState::HalfOpen, 42), |s| {
            s.probes = 3;
            s.successes = 2;
            s.trips = 4;
        }),
    ];
    for record in &records {
        published(&*store, record).await;
    }
    for record in &records {
        assert_eq!(load(&*store, &record.name).await.as_ref(), Some(record), "`{}` reads back", record.name);
    }
}

/// Breakers are independent: publishing, leasing and counting one leaves
/// the others' records as they are.
pub async fn breakers_are_independent(store: Arc<dyn BreakerStore>) {
    let other = shared("inventory", BreakerState::HalfOpen, 1);
    published(&*store, &other).await;
    published(&*store, &shared("payments", BreakerState::Open, 1)).await;
    let payments = shared("payments", BreakerState::HalfOpen, 2);
    published(&*store, &payments).await;
    assert!(lease(&*store, "payments", 2, 1).await);
    count_success(&*store, "payments", 2).await;
    assert_eq!(load(&*store, "inventory").await, Some(other), "another breaker's record is untouched");
    assert_eq!(load(&*store, "payment").await, None, "a prefix is another breaker");
}

/// A half-open period grants probe slots while fewer than `max` are leased
/// (then refuses), counts them in the record's `probes`, and leaves the
/// version as it is, so the next transition still publishes version + 1.
pub async fn lease_probe_grants_slots_up_to_max(store: Arc<dyn BreakerStore>) {
    published(&*store, &shared("payments", BreakerState::HalfOpen, 3)).await;
    let mut granted = Vec::new();
    for _ in 0..4 {
        granted.push(lease(&*store, "payments", 3, 2).await);
    }
    assert_eq!(granted, [true, true, false, false], "two slots of max 2");
    let record = load(&*store, "payments").await.expect("the record");
    assert_eq!((record.probes, record.version), (2, 3), "two probes leased, the version unchanged");
    assert!(lease(&*store, "payments", 3, 3).await, "a larger max grants one more slot");
    assert!(!lease(&*store, "payments", 3, 3).await);
    assert_eq!(load(&*store, "payments").await.map(|r| r.probes), Some(3));
    published(&*store, &shared("payments", BreakerState::Open, 4)).await;
}

/// A lease for another version than the stored half-open period (one that
/// is over, one not yet started) is refused and changes nothing.
pub async fn lease_probe_is_refused_for_another_period(store: Arc<dyn BreakerStore>) {
    let half_open = shared("payments", BreakerState::HalfOpen, 3);
    published(&*store, &half_open).await;
    for version in [2, 4] {
        assert!(!lease(&*store, "payments", version, 5).await, "version {version} is not the stored period");
    }
    assert_eq!(load(&*store, "payments").await, Some(half_open));
}

/// Probes are leased only in the half-open state: an open or closed
/// breaker refuses, and so does a breaker with no record (which the lease
/// does not create).
pub async fn lease_probe_is_refused_unless_half_open(store: Arc<dyn BreakerStore>) {
    let open = shared("payments", BreakerState::Open, 1);
    let closed = shared("inventory", BreakerState::Closed, 1);
    for record in [&open, &closed] {
        published(&*store, record).await;
        assert!(!lease(&*store, &record.name, 1, 5).await, "{:?} grants no probe", record.state);
        assert_eq!(load(&*store, &record.name).await.as_ref(), Some(record));
    }
    assert!(!lease(&*store, "unknown", 1, 5).await, "no record, no probe");
    assert_eq!(load(&*store, "unknown").await, None, "the lease created nothing");
}

/// A new half-open period (a published record of the next version) starts
/// with the counts it was published with: the old period's leases and
/// successes are void, its version no longer leases or counts.
pub async fn a_new_half_open_period_starts_with_the_published_counts(store: Arc<dyn BreakerStore>) {
    published(&*store, &shared("payments", BreakerState::HalfOpen, 3)).await;
    assert!(lease(&*store, "payments", 3, 1).await);
    count_success(&*store, "payments", 3).await;
    let period = shared("payments", BreakerState::HalfOpen, 4);
    published(&*store, &period).await;
    assert_eq!(load(&*store, "payments").await, Some(period), "the new period as published");
    assert!(!lease(&*store, "payments", 3, 1).await, "the old period leases nothing");
    assert_eq!(count_success(&*store, "payments", 3).await, None, "the old period counts nothing");
    assert!(lease(&*store, "payments", 4, 1).await, "the new period has its slot");
    assert_eq!(load(&*store, "payments").await.map(|r| r.probes), Some(1));
}

/// Transitions are atomic: of 8 containers publishing the same next version
/// at once exactly one is accepted, and its record is the one stored.
pub async fn concurrent_publishes_of_one_version_have_one_winner(store: Arc<dyn BreakerStore>) {
    published(&*store, &shared("payments", BreakerState::Closed, 1)).await;
    let answers = at_once(8, |i| {
        let store = store.clone();
        let next = updated(shared("payments", BreakerState::Open, 2), |s| {
            s.open_until_ms = NOW_MS + i as u64;
            s.writer = format!("container-{i}");
        });
        async move {
            let accepted = publish(&*store, &next).await;
            (next, accepted)
        }
    })
    .await;
    let winners: Vec<SharedState> =
        answers.into_iter().filter_map(|(next, accepted)| accepted.then_some(next)).collect();
    assert_eq!(winners.len(), 1, "exactly one of 8 concurrent transitions is written: {winners:?}");
    assert_eq!(load(&*store, "payments").await.as_ref(), winners.first(), "the winner's record is stored");
}

/// Probe leases are atomic: of 16 leases at once with `max` 3 exactly 3 are
/// granted, and the record counts 3.
pub async fn concurrent_probe_leases_grant_exactly_max(store: Arc<dyn BreakerStore>) {
    published(&*store, &shared("payments", BreakerState::HalfOpen, 1)).await;
    let leases = at_once(16, |_| {
        let store = store.clone();
        async move { lease(&*store, "payments", 1, 3).await }
    })
    .await;
    let granted = leases.into_iter().filter(|granted| *granted).count();
    assert_eq!(granted, 3, "exactly max probes across 16 concurrent leases");
    assert_eq!(load(&*store, "payments").await.map(|r| r.probes), Some(3));
}

/// A store that counts probe successes counts one per call in the half-open
/// period asked for, from the published count, returning the new total
/// (kept in the record's `successes`); for another version, another state
/// or an unknown breaker it answers `None` and changes nothing. A store
/// that does not count (the trait's default) answers `None` always.
pub async fn probe_successes_are_counted_per_period_or_not_at_all(store: Arc<dyn BreakerStore>) {
    let period = updated(shared("payments", BreakerState::HalfOpen, 2), |s| s.successes = 1);
    published(&*store, &period).await;
    let Some(first) = count_success(&*store, "payments", 2).await else {
        assert_eq!(count_success(&*store, "payments", 2).await, None, "a store that does not count never does");
        assert_eq!(load(&*store, "payments").await, Some(period));
        return;
    };
    assert_eq!(first, 2, "counted from the published 1");
    assert_eq!(count_success(&*store, "payments", 2).await, Some(3));
    assert_eq!(load(&*store, "payments").await.map(|r| r.successes), Some(3), "kept in the record");
    for version in [1, 3] {
        assert_eq!(count_success(&*store, "payments", version).await, None, "version {version} counts nothing");
    }
    let open = shared("inventory", BreakerState::Open, 1);
    published(&*store, &open).await;
    assert_eq!(count_success(&*store, "inventory", 1).await, None, "an open breaker counts nothing");
    assert_eq!(count_success(&*store, "unknown", 1).await, None, "an unknown breaker counts nothing");
    assert_eq!(load(&*store, "inventory").await, Some(open));
    assert_eq!(load(&*store, "unknown").await, None, "counting created nothing");
    assert_eq!(load(&*store, "payments").await.map(|r| r.successes), Some(3));
}

/// Counting is atomic: 8 successes counted at once by a store that counts
/// get the totals 1 to 8, each once (a store that does not count answers
/// `None` to all).
pub async fn concurrent_probe_successes_each_count_once(store: Arc<dyn BreakerStore>) {
    published(&*store, &shared("payments", BreakerState::HalfOpen, 1)).await;
    let totals = at_once(8, |_| {
        let store = store.clone();
        async move { count_success(&*store, "payments", 1).await }
    })
    .await;
    if totals.iter().all(Option::is_none) {
        return;
    }
    let mut counted: Vec<u32> = totals.iter().map(|t| t.expect("a counting store counts every call")).collect();
    counted.sort_unstable();
    assert_eq!(counted, (1..=8).collect::<Vec<u32>>(), "each success counted once");
    assert_eq!(load(&*store, "payments").await.map(|r| r.successes), Some(8));
}
