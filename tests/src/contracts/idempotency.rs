//! The contract of [`halo::idempotency::IdempotencyStore`]: what halo's idempotency
//! relies on from the store of its records.
//!
//! - [`claim`](IdempotencyStore::claim) writes an `INPROGRESS` record unless a record
//!   that still holds the key exists, and is atomic: of concurrent claims of
//!   a free key exactly one succeeds. A record holds its key until it
//!   expires (`expiration`, whole epoch seconds); an in-progress one also
//!   stops holding it once its invocation's deadline
//!   (`in_progress_expiration`, epoch ms) has passed. A refused claim
//!   returns the holding record as stored; a claim that replaces an expired
//!   record returns it as `previous`.
//! - [`complete`](IdempotencyStore::complete) replaces the claim with the completed
//!   record; [`delete`](IdempotencyStore::delete) removes a record (absent is fine);
//!   [`get`](IdempotencyStore::get) reads a record back exactly as written, every field
//!   included (the `not_stored` marker too).
//!
//! Every behaviour takes a fresh, empty store and passes the time to the
//! store explicitly (`now_ms`), so none sleeps and none depends on the
//! machine's clock. Run them all with
//! [`store_contract_tests!`](crate::store_contract_tests)`(idempotency, make_store)`
//! (one test each) or [`run_all`].

use std::sync::Arc;

use halo::idempotency::IdempotencyStore;
use halo::idempotency::store::{Claim, NotStored, Record, Status};

use super::at_once;

/// The time every behaviour works at, in epoch milliseconds (any fixed time
/// does: a store reads no clock of its own).
pub const NOW_MS: u64 = 1_800_000_000_000;

/// The behaviours' default record expiry: an hour after [`NOW_MS`], in epoch
/// seconds.
const EXPIRATION: u64 = NOW_MS / 1000 + 3600;

/// The default claim's invocation deadline: 30 s after [`NOW_MS`].
const DEADLINE_MS: u64 = NOW_MS + 30_000;

/// The list of behaviours, written once for the test macro, [`run_all`] and
/// [`BEHAVIOURS`] (written by it).
#[doc(hidden)]
#[macro_export]
macro_rules! __idempotency_contract {
    ($($how:tt)*) => {
        $crate::__contract! { $($how)* ; idempotency, dyn $crate::__private::halo::idempotency::IdempotencyStore ;
            claim_of_a_free_key_succeeds,
            claim_of_a_key_in_progress_is_held,
            in_progress_claim_holds_its_key_until_its_deadline,
            in_progress_record_without_a_deadline_holds_until_it_expires,
            expired_in_progress_record_is_taken_over,
            complete_replaces_the_claim,
            completed_record_holds_its_key_until_it_expires,
            not_stored_marker_round_trips_and_holds_the_key,
            records_round_trip_every_field,
            delete_frees_the_key,
            absent_keys_read_as_none_and_delete_without_error,
            keys_are_independent,
            concurrent_claims_of_a_free_key_have_one_winner,
            concurrent_takeovers_of_an_expired_record_have_one_winner,
        }
    };
}

crate::__idempotency_contract!(items);

/// An `INPROGRESS` claim of `key` that expires at [`EXPIRATION`], by an
/// invocation whose deadline is [`DEADLINE_MS`].
fn claim_of(key: &str) -> Record {
    Record::in_progress(key, EXPIRATION, DEADLINE_MS, Some(format!("validation of {key}")))
}

async fn claim(store: &dyn IdempotencyStore, record: &Record, now_ms: u64) -> Claim {
    store.claim(record, now_ms).await.unwrap_or_else(|err| panic!("claim of `{}` failed: {err}", record.key))
}

async fn get(store: &dyn IdempotencyStore, key: &str) -> Option<Record> {
    store.get(key).await.unwrap_or_else(|err| panic!("get of `{key}` failed: {err}"))
}

async fn complete(store: &dyn IdempotencyStore, record: &Record) {
    store.complete(record).await.unwrap_or_else(|err| panic!("complete of `{}` failed: {err}", record.key));
}

/// Claims `record`'s key at [`NOW_MS`], then completes it with `record`.
async fn claim_then_complete(store: &dyn IdempotencyStore, record: &Record) {
    let claimed = claim_of(&record.key);
    assert_eq!(claim(store, &claimed, NOW_MS).await, Claim::Claimed { previous: None }, "`{}` is free", record.key);
    complete(store, record).await;
}

async fn delete(store: &dyn IdempotencyStore, key: &str) {
    store.delete(key).await.unwrap_or_else(|err| panic!("delete of `{key}` failed: {err}"));
}

/// A claim of a key no record holds is written: the answer is
/// `Claimed { previous: None }` and [`IdempotencyStore::get`] reads the claim back as
/// written.
pub async fn claim_of_a_free_key_succeeds(store: Arc<dyn IdempotencyStore>) {
    let record = claim_of("charge#free");
    assert_eq!(claim(&*store, &record, NOW_MS).await, Claim::Claimed { previous: None }, "a free key is claimed");
    assert_eq!(get(&*store, "charge#free").await, Some(record), "the claim reads back as written");
}

/// While a claim is in progress before its deadline, another claim of its
/// key is refused with the stored record (`Held`), and changes nothing.
pub async fn claim_of_a_key_in_progress_is_held(store: Arc<dyn IdempotencyStore>) {
    let first = claim_of("charge#busy");
    claim(&*store, &first, NOW_MS).await;
    let second = Record::in_progress("charge#busy", EXPIRATION + 60, NOW_MS + 60_000, Some("another".into()));
    assert_eq!(
        claim(&*store, &second, NOW_MS + 1_000).await,
        Claim::Held(first.clone()),
        "a duplicate gets the claim that holds the key"
    );
    assert_eq!(get(&*store, "charge#busy").await, Some(first), "a refused claim writes nothing");
}

/// An in-progress claim holds its key up to and at its invocation's deadline
/// (`in_progress_expiration`, in ms); one millisecond after it the next
/// claim takes the key over and gets the old claim as `previous`.
pub async fn in_progress_claim_holds_its_key_until_its_deadline(store: Arc<dyn IdempotencyStore>) {
    let crashed = claim_of("charge#lease");
    claim(&*store, &crashed, NOW_MS).await;
    let retry = Record::in_progress("charge#lease", EXPIRATION, DEADLINE_MS + 30_000, None);
    assert_eq!(
        claim(&*store, &retry, DEADLINE_MS).await,
        Claim::Held(crashed.clone()),
        "held at its deadline's very millisecond"
    );
    assert_eq!(
        claim(&*store, &retry, DEADLINE_MS + 1).await,
        Claim::Claimed { previous: Some(crashed) },
        "taken over once the deadline has passed"
    );
    assert_eq!(get(&*store, "charge#lease").await, Some(retry), "the new claim is stored");
}

/// An in-progress record without an invocation deadline holds its key until
/// the record expires.
pub async fn in_progress_record_without_a_deadline_holds_until_it_expires(store: Arc<dyn IdempotencyStore>) {
    let mut open = claim_of("charge#open");
    open.in_progress_expiration = None;
    assert_eq!(claim(&*store, &open, NOW_MS).await, Claim::Claimed { previous: None });
    assert_eq!(get(&*store, "charge#open").await, Some(open.clone()), "no deadline reads back as none");
    let next = claim_of("charge#open");
    let last_live_ms = EXPIRATION * 1000 + 999;
    assert_eq!(claim(&*store, &next, last_live_ms).await, Claim::Held(open.clone()), "held until it expires");
    assert_eq!(claim(&*store, &next, last_live_ms + 1).await, Claim::Claimed { previous: Some(open) });
}

/// A record's expiry (`expiration`, whole epoch seconds) frees its key
/// whatever its state: an in-progress claim whose deadline is still ahead
/// is taken over once it has expired, and not in its expiration second.
pub async fn expired_in_progress_record_is_taken_over(store: Arc<dyn IdempotencyStore>) {
    let expiration = NOW_MS / 1000 + 10;
    let stale = Record::in_progress("charge#stale", expiration, NOW_MS + 3_600_000, None);
    claim(&*store, &stale, NOW_MS).await;
    let next = claim_of("charge#stale");
    assert_eq!(
        claim(&*store, &next, expiration * 1000 + 999).await,
        Claim::Held(stale.clone()),
        "live through its expiration second"
    );
    assert_eq!(
        claim(&*store, &next, (expiration + 1) * 1000).await,
        Claim::Claimed { previous: Some(stale) },
        "expired in the next second, although its deadline is ahead"
    );
    assert_eq!(get(&*store, "charge#stale").await, Some(next));
}

/// [`IdempotencyStore::complete`] replaces the claim: [`IdempotencyStore::get`] reads the
/// completed record (its response, no deadline, the claim's validation
/// hash, its own expiry).
pub async fn complete_replaces_the_claim(store: Arc<dyn IdempotencyStore>) {
    let claimed = claim_of("charge#done");
    claim(&*store, &claimed, NOW_MS).await;
    let done = claimed.completed(r#"{"charged":10}"#.into(), EXPIRATION + 7200);
    complete(&*store, &done).await;
    let stored = get(&*store, "charge#done").await.expect("the completed record");
    assert_eq!(stored, done, "the completed record replaced the claim");
    assert_eq!(stored.in_progress_expiration, None);
    assert_eq!(stored.validation, claimed.validation);
}

/// A completed record holds its key until it expires: up to the last
/// millisecond of its `expiration` second a claim is refused with the
/// completed record; from the next second on the key is free again and the
/// claim gets the completed record as `previous`.
pub async fn completed_record_holds_its_key_until_it_expires(store: Arc<dyn IdempotencyStore>) {
    let claimed = claim_of("charge#replay");
    claim(&*store, &claimed, NOW_MS).await;
    let done = claimed.completed(r#"{"charged":10}"#.into(), EXPIRATION);
    complete(&*store, &done).await;
    let duplicate = claim_of("charge#replay");
    for now_ms in [NOW_MS, DEADLINE_MS + 1, EXPIRATION * 1000 + 999] {
        assert_eq!(
            claim(&*store, &duplicate, now_ms).await,
            Claim::Held(done.clone()),
            "a duplicate at {now_ms} ms replays the completed record"
        );
    }
    assert_eq!(
        claim(&*store, &duplicate, (EXPIRATION + 1) * 1000).await,
        Claim::Claimed { previous: Some(done) },
        "an expired completed record frees its key"
    );
}

/// A completed record whose response could not be stored (no `data`, a
/// [`NotStored`] marker) reads back with its marker, for either reason, and
/// holds its key like any completed record.
pub async fn not_stored_marker_round_trips_and_holds_the_key(store: Arc<dyn IdempotencyStore>) {
    for (key, reason) in [("charge#too-large", NotStored::TooLarge), ("charge#odd", NotStored::NotSerializable)] {
        let claimed = claim_of(key);
        claim(&*store, &claimed, NOW_MS).await;
        let marked = claimed.not_stored(reason, EXPIRATION);
        complete(&*store, &marked).await;
        let stored = get(&*store, key).await.expect("the marked record");
        assert_eq!(stored, marked, "{reason}: the marker reads back");
        assert_eq!((stored.data, stored.not_stored), (None, Some(reason)));
        assert_eq!(
            claim(&*store, &claim_of(key), DEADLINE_MS + 1).await,
            Claim::Held(marked),
            "{reason}: a marked record holds its key"
        );
    }
}

/// Every field reads back exactly as written, through [`IdempotencyStore::get`] and in
/// a refused claim: keys with `#`, `/`, spaces and non-ASCII text; records
/// with and without a validation hash; responses with quotes, backslashes,
/// newlines, non-ASCII text, and 64 KiB long.
pub async fn records_round_trip_every_field(store: Arc<dyn IdempotencyStore>) {
    let tricky = r#"{"text":"quote \" backslash \\ newline \n tab \t ünïcødé 🚀","n":[1,-2,2.5,null,true]}"#;
    let long = format!(r#"{{"blob":"{}"}}"#, "x".repeat(64 * 1024));
    let records = [
        Record::in_progress("charge#5d41402abc4b2a76b9719d911017c592", EXPIRATION, DEADLINE_MS, None),
        Record::in_progress("orders/2024 07#ü", EXPIRATION, DEADLINE_MS, Some("ab12".into())),
        Record::in_progress("charge#tricky", NOW_MS / 1000, NOW_MS, Some("hash".into()))
            .completed(tricky.into(), EXPIRATION + 1),
        Record::in_progress("charge#long", EXPIRATION, DEADLINE_MS, None).completed(long, EXPIRATION),
        Record::in_progress("charge#null", EXPIRATION, DEADLINE_MS, None).completed("null".into(), EXPIRATION),
    ];
    for record in &records {
        match record.status {
            Status::InProgress => assert_eq!(claim(&*store, record, NOW_MS).await, Claim::Claimed { previous: None }),
            _ => claim_then_complete(&*store, record).await,
        }
    }
    for record in &records {
        assert_eq!(get(&*store, &record.key).await.as_ref(), Some(record), "`{}` reads back as written", record.key);
        assert_eq!(
            claim(&*store, &claim_of(&record.key), NOW_MS).await,
            Claim::Held(record.clone()),
            "`{}` comes back whole in a refused claim",
            record.key
        );
    }
}

/// [`IdempotencyStore::delete`] removes a record, in progress or completed: `get`
/// finds nothing and the next claim gets the key with no previous record.
pub async fn delete_frees_the_key(store: Arc<dyn IdempotencyStore>) {
    let in_progress = claim_of("charge#failed");
    claim(&*store, &in_progress, NOW_MS).await;
    claim_then_complete(&*store, &claim_of("charge#evicted").completed("{}".into(), EXPIRATION)).await;
    for key in ["charge#failed", "charge#evicted"] {
        delete(&*store, key).await;
        assert_eq!(get(&*store, key).await, None, "`{key}` is gone");
        assert_eq!(
            claim(&*store, &claim_of(key), NOW_MS).await,
            Claim::Claimed { previous: None },
            "`{key}` is free again"
        );
    }
}

/// Reading a key that has no record gives `None`, and deleting it is not an
/// error (twice neither).
pub async fn absent_keys_read_as_none_and_delete_without_error(store: Arc<dyn IdempotencyStore>) {
    assert_eq!(get(&*store, "charge#never").await, None);
    delete(&*store, "charge#never").await;
    delete(&*store, "charge#never").await;
    assert_eq!(get(&*store, "charge#never").await, None);
}

/// Keys are independent: claiming, completing and deleting one key leaves
/// the records of the others as they are, and a key that is a prefix of
/// another is another key.
pub async fn keys_are_independent(store: Arc<dyn IdempotencyStore>) {
    let (a, b, c) = (claim_of("charge#a"), claim_of("charge#ab"), claim_of("refund#a"));
    for record in [&a, &b, &c] {
        assert_eq!(claim(&*store, record, NOW_MS).await, Claim::Claimed { previous: None }, "`{}`", record.key);
    }
    let done = a.completed("1".into(), EXPIRATION);
    complete(&*store, &done).await;
    delete(&*store, "charge#ab").await;
    assert_eq!(get(&*store, "charge#a").await, Some(done));
    assert_eq!(get(&*store, "charge#ab").await, None);
    assert_eq!(get(&*store, "refund#a").await, Some(c));
}

/// Claims `key` 16 times at once, each claimant with its own record (its
/// validation hash names it); returns the answers with the records.
async fn concurrent_claims(store: &Arc<dyn IdempotencyStore>, key: &str, now_ms: u64) -> Vec<(Record, Claim)> {
    at_once(16, |i| {
        let store = store.clone();
        let record = Record::in_progress(key, EXPIRATION, now_ms + 30_000, Some(format!("claimant {i}")));
        async move {
            let answer = claim(&*store, &record, now_ms).await;
            (record, answer)
        }
    })
    .await
}

/// Checks that exactly one of `answers` claimed the key (with `previous`),
/// that every other got the winner's record, and that it is stored.
async fn assert_one_winner(store: &dyn IdempotencyStore, answers: Vec<(Record, Claim)>, previous: Option<Record>) {
    let key = answers[0].0.key.clone();
    let winners: Vec<&Record> =
        answers.iter().filter(|(_, answer)| matches!(answer, Claim::Claimed { .. })).map(|(r, _)| r).collect();
    let names: Vec<&str> = winners.iter().filter_map(|r| r.validation.as_deref()).collect();
    assert_eq!(names.len(), 1, "exactly one of {} concurrent claims wins; these won: {names:?}", answers.len());
    let winner = winners[0].clone();
    for (record, answer) in &answers {
        if *record == winner {
            assert_eq!(*answer, Claim::Claimed { previous: previous.clone() }, "the winner's answer");
        } else {
            assert_eq!(*answer, Claim::Held(winner.clone()), "a loser gets the winner's record");
        }
    }
    assert_eq!(get(store, &key).await, Some(winner), "the winner's claim is stored");
}

/// Claims are atomic: of 16 concurrent claims of one free key exactly one
/// is `Claimed`; every other is `Held` with the winner's record, the record
/// stored.
pub async fn concurrent_claims_of_a_free_key_have_one_winner(store: Arc<dyn IdempotencyStore>) {
    let answers = concurrent_claims(&store, "charge#race", NOW_MS).await;
    assert_one_winner(&*store, answers, None).await;
}

/// Taking over an expired record is atomic too: of 16 concurrent claims
/// exactly one replaces it (and gets it as `previous`), every other is
/// `Held` with the winner's record.
pub async fn concurrent_takeovers_of_an_expired_record_have_one_winner(store: Arc<dyn IdempotencyStore>) {
    let crashed = claim_of("charge#takeover");
    claim(&*store, &crashed, NOW_MS).await;
    let answers = concurrent_claims(&store, "charge#takeover", DEADLINE_MS + 1).await;
    assert_one_winner(&*store, answers, Some(crashed)).await;
}
