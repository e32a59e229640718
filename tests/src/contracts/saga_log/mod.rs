//! The contract of [`halo::saga::log::SagaLog`]: what sagas rely on from the
//! durable log of their records.
//!
//! - [`write`](SagaLog::write) is atomic and conditional: a record of
//!   version 1 is created only if no record of its saga exists, a record of
//!   any other version is written only over the version before it;
//!   anything else fails with a conflict ([`StoreError::is_conflict`]) and changes nothing. Of
//!   concurrent writes of one version exactly one wins.
//! - [`load`](SagaLog::load) reads the latest record back exactly as
//!   written, every field included.
//! - [`stalled`](SagaLog::stalled) lists the sagas without an outcome
//!   (running or compensating) whose latest write is older than the time
//!   given, oldest first, at most `limit`.
//!
//! The suite checks those promises directly, then runs sagas on the log
//! (success, rollback, retried and failed compensations, a crash at every
//! transition, concurrent runs and leases, suspension, recovery,
//! interrupted steps) and checks their outcomes and their effects on a
//! simulated downstream ([`world`]).
//!
//! Every behaviour takes a fresh, empty log; time is moved with injected
//! clocks, never by sleeping. Run them all with
//! [`store_contract_tests!`](crate::store_contract_tests)`(saga_log, make_log)`
//! (one test each) or [`run_all`].

use std::sync::Arc;

use halo::durable::{StoreError, StoreErrorKind};
use halo::saga::StepError;
use halo::saga::log::{SagaLog, SagaRecord, SagaStatus};
use serde_json::json;

use super::at_once;

mod runs;
pub mod world;

pub use runs::*;

/// The time the behaviours' records are written at, in epoch milliseconds.
pub const NOW_MS: u64 = 1_800_000_000_000;

/// The list of behaviours, written once for the test macro, [`run_all`] and
/// [`BEHAVIOURS`] (written by it).
#[doc(hidden)]
#[macro_export]
macro_rules! __saga_log_contract {
    ($($how:tt)*) => {
        $crate::__contract! { $($how)* ; saga_log, dyn $crate::__private::halo::saga::log::SagaLog ;
            load_of_an_unknown_saga_is_none,
            first_write_creates_the_record,
            first_write_of_an_existing_saga_conflicts,
            write_of_the_next_version_replaces_the_record,
            write_of_any_other_version_conflicts_and_changes_nothing,
            write_of_a_later_version_without_a_record_conflicts,
            a_write_that_finds_itself_stored_succeeds,
            records_round_trip_every_field,
            sagas_are_independent,
            stalled_lists_unfinished_sagas_last_written_before_the_time,
            stalled_is_oldest_first_and_at_most_limit,
            stalled_reads_the_latest_version,
            concurrent_writes_of_one_version_have_one_winner,
            success_commits_with_n_plus_one_writes,
            failure_at_each_step_compensates_in_reverse,
            failed_step_with_side_effects_is_compensated,
            compensation_failing_once_is_retried,
            compensation_always_failing_ends_compensation_failed,
            crash_at_every_transition_of_a_success,
            crash_at_every_transition_of_a_rollback,
            concurrent_runs_and_lease_expiry,
            suspension_then_resume,
            recover_finishes_stalled_sagas,
            interrupted_step_compensated_when_recovery_aborts,
            interrupted_step_compensated_when_its_rerun_fails,
            interrupted_step_compensated_after_lease_takeover,
            interrupted_step_rerun_succeeds_then_later_failure,
        }
    };
}

crate::__saga_log_contract!(items);

/// A running record of saga `id` at `version`, last written at
/// `updated_at_ms`, its first step started under a lease.
fn record(id: &str, version: u64, updated_at_ms: u64) -> SagaRecord {
    from_json(json!({
        "saga_id": id,
        "saga": "trip",
        "status": "RUNNING",
        "input": { "id": id },
        "steps": [
            { "name": "hotel", "state": "STARTED" },
            { "name": "flight", "state": "PENDING" },
        ],
        "lease": { "owner": "run-a", "expires_at_ms": NOW_MS + 30_000 },
        "version": version,
        "created_at_ms": NOW_MS,
        "updated_at_ms": updated_at_ms,
        "last_event": "step_started",
    }))
}

/// A record (or a part of one) as its JSON: the record types are
/// `#[non_exhaustive]`, so a log's tests build them as a log reads them.
fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    serde_json::from_value(value).expect("a valid saga record")
}

/// `record` with `status` (and no lease once final).
fn with_status(mut record: SagaRecord, status: SagaStatus) -> SagaRecord {
    record.status = status;
    if status.is_final() {
        record.lease = None;
    }
    record
}

async fn load(log: &dyn SagaLog, id: &str) -> Option<SagaRecord> {
    log.load(id).await.unwrap_or_else(|err| panic!("load of `{id}` failed: {err}"))
}

async fn write(log: &dyn SagaLog, record: &SagaRecord) -> Result<(), StoreError> {
    match log.write(record).await {
        Err(err) if err.kind() != StoreErrorKind::Conflict => {
            panic!("write of `{}` version {} failed in the store: {err}", record.saga_id, record.version)
        }
        other => other,
    }
}

/// Writes `record`, which must be accepted.
async fn written(log: &dyn SagaLog, record: &SagaRecord) {
    if let Err(err) = write(log, record).await {
        panic!("write of `{}` version {} is accepted, got {err}", record.saga_id, record.version);
    }
}

fn assert_conflict(result: Result<(), StoreError>, what: &str) {
    assert!(
        matches!(&result, Err(err) if err.kind() == StoreErrorKind::Conflict),
        "{what}: expected a conflict, got {result:?}"
    );
}

async fn stalled(log: &dyn SagaLog, before_ms: u64, limit: usize) -> Vec<SagaRecord> {
    log.stalled(before_ms, limit).await.unwrap_or_else(|err| panic!("stalled({before_ms}, {limit}) failed: {err}"))
}

fn ids(records: &[SagaRecord]) -> Vec<&str> {
    records.iter().map(|r| r.saga_id.as_str()).collect()
}

/// A saga never written has no record.
pub async fn load_of_an_unknown_saga_is_none(log: Arc<dyn SagaLog>) {
    assert_eq!(load(&*log, "s-unknown").await, None);
}

/// The first write of a saga (version 1) creates its record, which reads
/// back as written.
pub async fn first_write_creates_the_record(log: Arc<dyn SagaLog>) {
    let first = record("s-new", 1, NOW_MS);
    written(&*log, &first).await;
    assert_eq!(load(&*log, "s-new").await, Some(first));
}

/// A second version-1 write of a saga (two runs starting it at once, or a
/// saga id reused) conflicts and changes nothing.
pub async fn first_write_of_an_existing_saga_conflicts(log: Arc<dyn SagaLog>) {
    let first = record("s-twice", 1, NOW_MS);
    written(&*log, &first).await;
    let mut other = record("s-twice", 1, NOW_MS + 5);
    other.input = json!({ "id": "another input" });
    assert_conflict(write(&*log, &other).await, "a second version 1");
    assert_eq!(load(&*log, "s-twice").await, Some(first), "the first record stays");
}

/// A record whose version is the stored one plus one replaces it.
pub async fn write_of_the_next_version_replaces_the_record(log: Arc<dyn SagaLog>) {
    let mut latest = record("s-next", 1, NOW_MS);
    written(&*log, &latest).await;
    for version in 2..=4 {
        latest = record("s-next", version, NOW_MS + version);
        latest.last_event = format!("event {version}");
        written(&*log, &latest).await;
    }
    assert_eq!(load(&*log, "s-next").await, Some(latest), "version 4 is stored");
}

/// A record of any other version over a stored one (the same, an older, one
/// skipped ahead: a run that lost its lease) conflicts and changes nothing.
pub async fn write_of_any_other_version_conflicts_and_changes_nothing(log: Arc<dyn SagaLog>) {
    written(&*log, &record("s-stale", 1, NOW_MS)).await;
    let current = record("s-stale", 2, NOW_MS + 1);
    written(&*log, &current).await;
    for version in [2, 1, 4, 100] {
        let stale = with_status(record("s-stale", version, NOW_MS + 2), SagaStatus::Committed);
        assert_conflict(write(&*log, &stale).await, &format!("version {version} over version 2"));
    }
    assert_eq!(load(&*log, "s-stale").await, Some(current), "conflicting writes change nothing");
}

/// A record of a version above 1 for a saga that has no record conflicts
/// and creates nothing.
pub async fn write_of_a_later_version_without_a_record_conflicts(log: Arc<dyn SagaLog>) {
    for version in [2, 5] {
        assert_conflict(write(&*log, &record("s-missing", version, NOW_MS)).await, &format!("version {version}"));
    }
    assert_eq!(load(&*log, "s-missing").await, None, "nothing was created");
}

/// A write that finds exactly its own record stored (its earlier attempt,
/// applied though its answer was lost) succeeds, for the first version and
/// a later one; the same version with other content still conflicts.
pub async fn a_write_that_finds_itself_stored_succeeds(log: Arc<dyn SagaLog>) {
    let first = record("s-again", 1, NOW_MS);
    written(&*log, &first).await;
    written(&*log, &first).await;
    let second = record("s-again", 2, NOW_MS + 1);
    written(&*log, &second).await;
    written(&*log, &second).await;
    let mut other = record("s-again", 2, NOW_MS + 1);
    other.last_event = "another run's transition".into();
    assert_conflict(write(&*log, &other).await, "the same version with other content");
    assert_eq!(load(&*log, "s-again").await, Some(second), "the record is the writer's");
}

/// Every field reads back exactly as written: a record with every optional
/// field set (step outputs and errors, compensations of steps and of ASL
/// states, the compensation state, the output, the cause, the lease, the
/// correlation id; nested JSON with non-ASCII text and numbers past 2^53),
/// and a minimal one (no steps, no lease, no option set).
pub async fn records_round_trip_every_field(log: Arc<dyn SagaLog>) {
    let cause = StepError::new("Unavailable", "the rental API answered 503 \"busy\"\nretry later");
    let error = |err: &StepError| serde_json::to_value(err).unwrap();
    let full: SagaRecord = from_json(json!({
        "saga_id": "s-full/ü 1",
        "saga": "trip booking",
        "status": "COMPENSATION_FAILED",
        "input": { "trip": { "id": "t-1", "travellers": ["Zoë", "李"], "budget": 1234.5, "big": 9_007_199_254_740_993_u64 } },
        "steps": [
            { "name": "hotel", "state": "DONE", "output": { "booking": "h-1" } },
            { "name": "flight", "state": "DONE", "output": null },
            { "name": "rental", "state": "FAILED", "error": error(&cause) },
        ],
        "compensations": [
            { "name": "flight", "step": 1, "state": "FAILED", "error": error(&StepError::new("CancelFailed", "no answer")) },
            { "name": "hotel", "step": 0, "state": "DONE" },
            { "name": "NotifyCustomer", "state": "PENDING" },
        ],
        "compensation_state": { "refund": [1, 2, 3] },
        "output": "partial",
        "failed_step": "rental",
        "cause": error(&cause),
        "lease": { "owner": "8f14e45f-ceea-467f-a0e6-c3f2b6f1c1b2", "expires_at_ms": NOW_MS + 900_000 },
        "version": 7,
        "created_at_ms": NOW_MS,
        "updated_at_ms": NOW_MS + 12_345,
        "last_event": "compensation_failed",
        "correlation_id": "corr-42",
    }));
    assert_eq!(full.steps[1].output, Some(json!(null)), "a null output is an output");
    assert_eq!(full.compensations[2].step, None);
    let mut minimal = with_status(record("s-minimal", 1, NOW_MS), SagaStatus::Committed);
    minimal.saga = "empty".into();
    minimal.input = json!({});
    minimal.steps = Vec::new();
    minimal.last_event = "committed".into();
    // The full record is written as the seventh version of its saga.
    for version in 1..full.version {
        written(&*log, &record(&full.saga_id, version, NOW_MS)).await;
    }
    written(&*log, &full).await;
    written(&*log, &minimal).await;
    assert_eq!(load(&*log, &full.saga_id).await, Some(full), "the full record reads back");
    assert_eq!(load(&*log, "s-minimal").await, Some(minimal), "the minimal record reads back");
}

/// Sagas are independent: writes to one saga never touch another's record
/// or its versions, and an id that is a prefix of another is another saga.
pub async fn sagas_are_independent(log: Arc<dyn SagaLog>) {
    let a = record("s-a", 1, NOW_MS);
    written(&*log, &a).await;
    written(&*log, &record("s-ab", 1, NOW_MS)).await;
    let ab = record("s-ab", 2, NOW_MS + 1);
    written(&*log, &ab).await;
    assert_eq!(load(&*log, "s-a").await, Some(a), "another saga's write leaves it alone");
    assert_eq!(load(&*log, "s-ab").await, Some(ab));
    written(&*log, &record("s-a", 2, NOW_MS + 2)).await;
}

/// `stalled` lists the sagas without an outcome (running or compensating)
/// last written strictly before the time given; final sagas, and sagas
/// written at or after that time, are not listed.
pub async fn stalled_lists_unfinished_sagas_last_written_before_the_time(log: Arc<dyn SagaLog>) {
    let before = NOW_MS + 60_000;
    let sagas = [
        ("running", SagaStatus::Running, before - 2),
        ("compensating", SagaStatus::Compensating, before - 1),
        ("committed", SagaStatus::Committed, NOW_MS),
        ("rolled-back", SagaStatus::RolledBack, NOW_MS),
        ("compensation-failed", SagaStatus::CompensationFailed, NOW_MS),
        ("uncompensated", SagaStatus::Uncompensated, NOW_MS),
        ("running-at-the-time", SagaStatus::Running, before),
        ("running-after", SagaStatus::Running, before + 1),
    ];
    for (id, status, updated_at_ms) in sagas {
        written(&*log, &with_status(record(id, 1, updated_at_ms), status)).await;
    }
    let found = stalled(&*log, before, 100).await;
    assert_eq!(ids(&found), ["running", "compensating"], "only unfinished sagas written before the time");
    assert_eq!(found[1], with_status(record("compensating", 1, before - 1), SagaStatus::Compensating));
    assert!(stalled(&*log, NOW_MS, 100).await.is_empty(), "nothing was written before {NOW_MS}");
}

/// `stalled` lists the oldest last write first, and at most `limit` sagas:
/// the oldest ones (none for a limit of 0).
pub async fn stalled_is_oldest_first_and_at_most_limit(log: Arc<dyn SagaLog>) {
    for (id, age) in [("s-3", 3), ("s-1", 1), ("s-5", 5), ("s-2", 2), ("s-4", 4)] {
        written(&*log, &record(id, 1, NOW_MS - age * 1_000)).await;
    }
    assert_eq!(ids(&stalled(&*log, NOW_MS, 10).await), ["s-5", "s-4", "s-3", "s-2", "s-1"], "oldest first");
    assert_eq!(ids(&stalled(&*log, NOW_MS, 3).await), ["s-5", "s-4", "s-3"], "the 3 oldest");
    assert_eq!(ids(&stalled(&*log, NOW_MS, 1).await), ["s-5"]);
    assert!(stalled(&*log, NOW_MS, 0).await.is_empty(), "a limit of 0 lists nothing");
}

/// `stalled` sees each saga's latest record: a saga rewritten as final is
/// no longer listed, one rewritten later is listed only by its new time,
/// with its new version.
pub async fn stalled_reads_the_latest_version(log: Arc<dyn SagaLog>) {
    for (id, updated_at_ms) in [("s-finished", NOW_MS - 10_000), ("s-moved", NOW_MS - 9_000)] {
        written(&*log, &record(id, 1, updated_at_ms)).await;
    }
    assert_eq!(ids(&stalled(&*log, NOW_MS, 10).await), ["s-finished", "s-moved"]);
    written(&*log, &with_status(record("s-finished", 2, NOW_MS - 5_000), SagaStatus::Committed)).await;
    let moved = record("s-moved", 2, NOW_MS + 5_000);
    written(&*log, &moved).await;
    assert!(stalled(&*log, NOW_MS, 10).await.is_empty(), "finished, and written again since");
    assert_eq!(stalled(&*log, NOW_MS + 10_000, 10).await, [moved], "listed by its latest write");
}

/// Writes are atomic: of 8 runs writing the same version of one saga at
/// once (its creation, then its next version) exactly one is accepted, the
/// others conflict, and the winner's record is stored.
pub async fn concurrent_writes_of_one_version_have_one_winner(log: Arc<dyn SagaLog>) {
    for version in [1, 2] {
        let answers = at_once(8, |i| {
            let log = log.clone();
            let mut next = record("s-race", version, NOW_MS + version);
            next.lease = Some(from_json(json!({ "owner": format!("run-{i}"), "expires_at_ms": NOW_MS + 30_000 })));
            async move {
                let result = write(&*log, &next).await;
                (next, result)
            }
        })
        .await;
        let mut winners = Vec::new();
        for answer in answers {
            match answer {
                (next, Ok(())) => winners.push(next),
                (_, result) => assert_conflict(result, &format!("a losing write of version {version}")),
            }
        }
        assert_eq!(winners.len(), 1, "exactly one of 8 concurrent writes of version {version}: {winners:?}");
        assert_eq!(load(&*log, "s-race").await.as_ref(), winners.first(), "the winner's record is stored");
    }
}
