//! The contract of [`halo::fanout::store::FanoutStore`]: what fan-out jobs rely on
//! from the store of their records.
//!
//! - [`create`](FanoutStore::create) writes a job once; an existing id is
//!   returned as stored and left unchanged.
//! - [`record`](FanoutStore::record) records a part of a running job once
//!   (done or failed, never both), in one atomic step that returns how many
//!   parts remain; everything else (a recorded part, an unknown job or
//!   part, a job that is not running) is refused and changes nothing. A
//!   record that would take the job over 400 KB is refused as too large.
//! - [`claim`](FanoutStore::claim) moves the job to `COMPLETING` only when
//!   its reason's condition holds (the condition each [`ClaimReason`] names), atomically: of
//!   concurrent claims one wins. [`finish`](FanoutStore::finish) and
//!   [`release`](FanoutStore::release) act only for the claim's token.
//! - [`due`](FanoutStore::due) lists the jobs of a kind that are due, by
//!   time.
//!
//! Every behaviour takes a fresh, empty store; times are plain numbers
//! passed to the store, so none sleeps. Run them all with
//! [`store_contract_tests!`](crate::store_contract_tests)`(fanout, make_store)`
//! (one test each) or [`run_all`].

use std::sync::Arc;

use halo::durable::StoreErrorKind;
use halo::fanout::store::{
    ClaimReason, FanoutStore, Finish, JobClaim, JobCreated, JobRecord, PartOutcome, Recorded, Release,
};
use halo::fanout::{JobOutcome, JobPolicy, JobStatus, PartFailure};

use super::at_once;

/// The time the behaviours' jobs are created at, in epoch milliseconds.
pub const NOW_MS: u64 = 1_800_000_000_000;

/// The deadline of the behaviours' jobs: a minute after [`NOW_MS`].
pub const DEADLINE_MS: u64 = NOW_MS + 60_000;

/// The list of behaviours, written once for the test macro, [`run_all`] and
/// [`BEHAVIOURS`] (written by it).
#[doc(hidden)]
#[macro_export]
macro_rules! __fanout_contract {
    ($($how:tt)*) => {
        $crate::__contract! { $($how)* ; fanout, dyn $crate::__private::halo::fanout::store::FanoutStore ;
            get_of_an_unknown_job_is_none,
            create_writes_every_field,
            create_of_an_existing_id_returns_it_unchanged,
            mark_dispatched_is_kept,
            records_count_down_to_zero,
            a_recorded_part_is_refused_and_unchanged,
            records_of_unknown_jobs_and_parts_are_refused,
            results_round_trip_any_json_text,
            a_record_over_the_item_limit_is_too_large,
            completion_claim_needs_every_part,
            fail_fast_claim_needs_the_policy_and_a_failure,
            deadline_claim_needs_the_deadline,
            a_claimed_job_records_nothing,
            retry_claim_needs_a_lapsed_lease,
            finish_needs_the_claims_token,
            release_makes_the_fan_in_due_now,
            due_lists_the_jobs_of_a_kind_by_time,
            concurrent_records_of_one_part_count_once,
            concurrent_records_of_every_part_reach_zero_once,
            concurrent_claims_have_one_winner,
        }
    };
}

crate::__fanout_contract!(items);

/// A job `job_id` of kind `thumbnails` with `total` parts, created at
/// [`NOW_MS`], due at [`DEADLINE_MS`].
pub fn job(job_id: &str, total: u32) -> JobRecord {
    JobRecord::new(job_id, "thumbnails", total, DEADLINE_MS, NOW_MS)
}

async fn create(store: &dyn FanoutStore, job: &JobRecord) {
    let created = store.create(job).await.unwrap_or_else(|err| panic!("create of `{}` failed: {err}", job.job_id));
    assert_eq!(created, JobCreated::New, "`{}` is created", job.job_id);
}

async fn get(store: &dyn FanoutStore, job_id: &str) -> Option<JobRecord> {
    store.get(job_id).await.unwrap_or_else(|err| panic!("get of `{job_id}` failed: {err}"))
}

async fn record(store: &dyn FanoutStore, job_id: &str, index: u32, outcome: PartOutcome<'_>) -> Recorded {
    store.record(job_id, index, outcome).await.unwrap_or_else(|err| panic!("record of part {index} failed: {err}"))
}

async fn done(store: &dyn FanoutStore, job_id: &str, index: u32, result: &str) -> Recorded {
    record(store, job_id, index, PartOutcome::Done(result)).await
}

fn failure(code: &str) -> PartFailure {
    PartFailure::new(code, format!("{code}: the detail"))
}

fn claim_of(reason: ClaimReason, token: &str, now_ms: u64) -> JobClaim {
    JobClaim::new(reason, token, now_ms, now_ms + 30_000)
}

async fn claim(store: &dyn FanoutStore, job_id: &str, claim: &JobClaim) -> Option<JobRecord> {
    store.claim(job_id, claim).await.unwrap_or_else(|err| panic!("claim of `{job_id}` failed: {err}"))
}

fn finish_of(token: &str, status: JobStatus) -> Finish {
    Finish::new(token, status, NOW_MS + 1_000, NOW_MS / 1000 + 86_400)
}

/// A job of `total` parts with every part recorded done.
async fn all_done(store: &dyn FanoutStore, job_id: &str, total: u32) -> JobRecord {
    let job = job(job_id, total);
    create(store, &job).await;
    for index in 0..total {
        done(store, job_id, index, &index.to_string()).await;
    }
    job
}

/// No job was created with this id.
pub async fn get_of_an_unknown_job_is_none(store: Arc<dyn FanoutStore>) {
    assert_eq!(get(&*store, "job-1").await, None);
}

/// A created job reads back with every field as written.
pub async fn create_writes_every_field(store: Arc<dyn FanoutStore>) {
    let mut written = job("asset#42/ü", 3);
    written.policy = JobPolicy::FailFast;
    written.context = r#"{"bucket":"uploads","key":"a/b.png","sizes":[64,256]}"#.to_owned();
    written.correlation_id = Some("corr-1".to_owned());
    create(&*store, &written).await;
    assert_eq!(get(&*store, "asset#42/ü").await, Some(written.clone()));
    assert_eq!((written.remaining(), written.results.len(), written.failures.len()), (3, 0, 0));
}

/// Creating an id that exists returns the stored job and changes nothing
/// (a start repeated, with whatever it carries).
pub async fn create_of_an_existing_id_returns_it_unchanged(store: Arc<dyn FanoutStore>) {
    let first = job("job-1", 3);
    create(&*store, &first).await;
    let mut other = job("job-1", 5);
    other.context = "\"other\"".to_owned();
    let again = store.create(&other).await.expect("create");
    assert_eq!(again, JobCreated::Existing(Box::new(first.clone())));
    assert_eq!(get(&*store, "job-1").await, Some(first));
}

/// A job marked dispatched stays so, and nothing else changes.
pub async fn mark_dispatched_is_kept(store: Arc<dyn FanoutStore>) {
    let job = job("job-1", 2);
    create(&*store, &job).await;
    store.mark_dispatched("job-1").await.expect("mark_dispatched");
    let mut dispatched = job;
    dispatched.dispatched = true;
    assert_eq!(get(&*store, "job-1").await, Some(dispatched));
}

/// Each recorded part counts once, done or failed, and the store answers
/// how many remain; the record holds exactly what was recorded.
pub async fn records_count_down_to_zero(store: Arc<dyn FanoutStore>) {
    create(&*store, &job("job-1", 3)).await;
    assert_eq!(done(&*store, "job-1", 2, "\"c\"").await, Recorded::Counted { remaining: 2 });
    let failed = failure("DeadLettered");
    assert_eq!(record(&*store, "job-1", 0, PartOutcome::Failed(&failed)).await, Recorded::Counted { remaining: 1 });
    assert_eq!(done(&*store, "job-1", 1, "\"b\"").await, Recorded::Counted { remaining: 0 });
    let stored = get(&*store, "job-1").await.expect("the job");
    assert_eq!(stored.results.into_iter().collect::<Vec<_>>(), vec![(1, "\"b\"".to_owned()), (2, "\"c\"".to_owned())]);
    assert_eq!(stored.failures.into_iter().collect::<Vec<_>>(), vec![(0, failed)]);
    assert_eq!(stored.status, JobStatus::Running, "recording never ends a job by itself");
}

/// A part recorded once is refused after, done or failed, with the job as
/// stored; the first result stays.
pub async fn a_recorded_part_is_refused_and_unchanged(store: Arc<dyn FanoutStore>) {
    create(&*store, &job("job-1", 2)).await;
    done(&*store, "job-1", 0, "\"first\"").await;
    let failed = failure("Boom");
    record(&*store, "job-1", 1, PartOutcome::Failed(&failed)).await;
    let before = get(&*store, "job-1").await.expect("the job");
    for (index, outcome) in [
        (0, PartOutcome::Done("\"second\"")),
        (0, PartOutcome::Failed(&failed)),
        (1, PartOutcome::Done("\"late\"")),
        (1, PartOutcome::Failed(&failed)),
    ] {
        match record(&*store, "job-1", index, outcome).await {
            Recorded::Refused(Some(job)) => assert_eq!(*job, before, "the refusal returns the stored job"),
            other => panic!("part {index} recorded again: {other:?}"),
        }
    }
    assert_eq!(get(&*store, "job-1").await, Some(before), "refused records change nothing");
}

/// A part of an unknown job is refused without a job; a part beyond the
/// job's total is refused with the job.
pub async fn records_of_unknown_jobs_and_parts_are_refused(store: Arc<dyn FanoutStore>) {
    assert_eq!(done(&*store, "job-1", 0, "1").await, Recorded::Refused(None));
    assert_eq!(get(&*store, "job-1").await, None, "a record creates no job");
    let job = job("job-1", 2);
    create(&*store, &job).await;
    assert_eq!(done(&*store, "job-1", 2, "1").await, Recorded::Refused(Some(Box::new(job.clone()))));
    assert_eq!(get(&*store, "job-1").await, Some(job));
}

/// Results are kept as the exact text recorded: quotes, escapes, non-ASCII
/// text, and 100 KB.
pub async fn results_round_trip_any_json_text(store: Arc<dyn FanoutStore>) {
    let results = [
        r#"{"key":"renditions/a \"b\".png","bytes":1234}"#.to_owned(),
        "\"ünïcödé ✓ \\u0000\"".to_owned(),
        format!("\"{}\"", "x".repeat(100 * 1024)),
    ];
    create(&*store, &job("job-1", 3)).await;
    for (index, result) in results.iter().enumerate() {
        done(&*store, "job-1", index as u32, result).await;
    }
    let stored = get(&*store, "job-1").await.expect("the job");
    assert_eq!(stored.results.into_values().collect::<Vec<_>>(), results.to_vec());
}

/// A record that would take the job's record over 400 KB is refused as too
/// large and changes nothing; the results recorded before stay.
pub async fn a_record_over_the_item_limit_is_too_large(store: Arc<dyn FanoutStore>) {
    let big = format!("\"{}\"", "r".repeat(150 * 1024));
    create(&*store, &job("job-1", 3)).await;
    done(&*store, "job-1", 0, &big).await;
    done(&*store, "job-1", 1, &big).await;
    let err = store.record("job-1", 2, PartOutcome::Done(&big)).await.expect_err("450 KB of results do not fit");
    assert_eq!(err.kind(), StoreErrorKind::TooLarge, "refused for its size: {err}");
    let stored = get(&*store, "job-1").await.expect("the job");
    assert_eq!((stored.results.len(), stored.remaining()), (2, 1), "nothing changed");
    let failed = failure("PartResultTooLarge");
    assert_eq!(record(&*store, "job-1", 2, PartOutcome::Failed(&failed)).await, Recorded::Counted { remaining: 0 });
}

/// The completion claim holds once every part is recorded: it makes the
/// job `COMPLETING` with the claim and outcome `COMPLETED`, counts the
/// attempt, and returns every result.
pub async fn completion_claim_needs_every_part(store: Arc<dyn FanoutStore>) {
    create(&*store, &job("job-1", 2)).await;
    done(&*store, "job-1", 0, "\"a\"").await;
    let first = claim_of(ClaimReason::Completion, "t-1", NOW_MS);
    assert_eq!(claim(&*store, "job-1", &first).await, None, "a part is missing");
    let failed = failure("DeadLettered");
    record(&*store, "job-1", 1, PartOutcome::Failed(&failed)).await;
    let claimed = claim(&*store, "job-1", &first).await.expect("every part is in");
    assert_eq!((claimed.status, claimed.outcome), (JobStatus::Completing, Some(JobOutcome::Completed)));
    assert_eq!(claimed.claim.as_ref().map(|c| (c.token.as_str(), c.lease_until_ms)), Some(("t-1", NOW_MS + 30_000)));
    assert_eq!(claimed.fan_in_attempts, 1);
    assert_eq!(claimed.results.get(&0).map(String::as_str), Some("\"a\""));
    assert_eq!(claimed.failures.get(&1), Some(&failed));
    assert_eq!(get(&*store, "job-1").await, Some(claimed));
    let second = claim_of(ClaimReason::Completion, "t-2", NOW_MS);
    assert_eq!(claim(&*store, "job-1", &second).await, None, "claimed once");
}

/// The fail-fast claim needs the policy and a failed part; a fail-fast job
/// with a failed part cannot be claimed for completion.
pub async fn fail_fast_claim_needs_the_policy_and_a_failure(store: Arc<dyn FanoutStore>) {
    let failed = failure("DeadLettered");
    create(&*store, &job("collect", 2)).await;
    record(&*store, "collect", 0, PartOutcome::Failed(&failed)).await;
    let fail_fast = claim_of(ClaimReason::FailFast, "t-1", NOW_MS);
    assert_eq!(claim(&*store, "collect", &fail_fast).await, None, "a collecting job waits for every part");

    let mut fast = job("fast", 2);
    fast.policy = JobPolicy::FailFast;
    create(&*store, &fast).await;
    assert_eq!(claim(&*store, "fast", &fail_fast).await, None, "no part failed yet");
    done(&*store, "fast", 0, "1").await;
    record(&*store, "fast", 1, PartOutcome::Failed(&failed)).await;
    let completion = claim_of(ClaimReason::Completion, "t-2", NOW_MS);
    assert_eq!(claim(&*store, "fast", &completion).await, None, "a failed part fails a fail-fast job");
    let claimed = claim(&*store, "fast", &fail_fast).await.expect("the fail-fast claim");
    assert_eq!((claimed.status, claimed.outcome), (JobStatus::Completing, Some(JobOutcome::FailedFast)));
}

/// The deadline claim holds from the deadline on.
pub async fn deadline_claim_needs_the_deadline(store: Arc<dyn FanoutStore>) {
    create(&*store, &job("job-1", 2)).await;
    done(&*store, "job-1", 1, "1").await;
    assert_eq!(claim(&*store, "job-1", &claim_of(ClaimReason::Deadline, "t-1", DEADLINE_MS - 1)).await, None);
    let claimed = claim(&*store, "job-1", &claim_of(ClaimReason::Deadline, "t-1", DEADLINE_MS)).await;
    let claimed = claimed.expect("due at the deadline");
    let recorded: Vec<u32> = claimed.results.keys().copied().collect();
    assert_eq!((claimed.outcome, claimed.remaining(), recorded), (Some(JobOutcome::TimedOut), 1, vec![1]));
}

/// Once the fan-in is claimed, no part is recorded any more (a part that
/// arrives after a fail-fast or a timeout is dropped).
pub async fn a_claimed_job_records_nothing(store: Arc<dyn FanoutStore>) {
    create(&*store, &job("job-1", 2)).await;
    let claimed = claim(&*store, "job-1", &claim_of(ClaimReason::Deadline, "t-1", DEADLINE_MS)).await;
    let claimed = claimed.expect("the deadline claim");
    assert_eq!(done(&*store, "job-1", 0, "1").await, Recorded::Refused(Some(Box::new(claimed))));
}

/// A completing job can be claimed again only once its lease has lapsed;
/// the retry keeps the outcome, takes a new token and counts the attempt.
pub async fn retry_claim_needs_a_lapsed_lease(store: Arc<dyn FanoutStore>) {
    create(&*store, &job("job-1", 1)).await;
    let retry = claim_of(ClaimReason::Retry, "t-2", NOW_MS);
    assert_eq!(claim(&*store, "job-1", &retry).await, None, "a running job is not retried");
    let first = claim_of(ClaimReason::Deadline, "t-1", DEADLINE_MS);
    claim(&*store, "job-1", &first).await.expect("the deadline claim");
    let early = claim_of(ClaimReason::Retry, "t-2", first.lease_until_ms - 1);
    assert_eq!(claim(&*store, "job-1", &early).await, None, "the lease still holds");
    let late = claim_of(ClaimReason::Retry, "t-2", first.lease_until_ms);
    let claimed = claim(&*store, "job-1", &late).await.expect("the lease lapsed");
    assert_eq!(claimed.outcome, Some(JobOutcome::TimedOut), "the outcome is kept");
    assert_eq!((claimed.claim.map(|c| c.token), claimed.fan_in_attempts), (Some("t-2".to_owned()), 2));
}

/// Only the claim's token finishes the job: it takes its final status, its
/// end time and expiry, loses its claim, and is never claimed or recorded
/// again.
pub async fn finish_needs_the_claims_token(store: Arc<dyn FanoutStore>) {
    all_done(&*store, "job-1", 1).await;
    claim(&*store, "job-1", &claim_of(ClaimReason::Completion, "t-1", NOW_MS)).await.expect("the claim");
    let wrong = finish_of("t-0", JobStatus::Completed);
    assert!(!store.finish("job-1", &wrong).await.expect("finish"), "another token finishes nothing");
    let right = finish_of("t-1", JobStatus::Completed);
    assert!(store.finish("job-1", &right).await.expect("finish"));
    let ended = get(&*store, "job-1").await.expect("the job");
    assert_eq!((ended.status, ended.claim.clone()), (JobStatus::Completed, None));
    assert_eq!((ended.finished_at_ms, ended.expires_at_s), (Some(right.now_ms), Some(right.expires_at_s)));
    assert_eq!(ended.due_ms(), None);
    assert!(!store.finish("job-1", &right).await.expect("finish"), "finished once");
    let far = DEADLINE_MS + 3_600_000;
    for reason in [ClaimReason::Completion, ClaimReason::FailFast, ClaimReason::Deadline, ClaimReason::Retry] {
        assert_eq!(claim(&*store, "job-1", &claim_of(reason, "t-2", far)).await, None, "{reason:?} after the end");
    }
    assert!(store.due("thumbnails", far, 10).await.expect("due").is_empty(), "an ended job is never due");
}

/// A released claim is due at once, keeps the error's code, and can be
/// retried; another token releases nothing.
pub async fn release_makes_the_fan_in_due_now(store: Arc<dyn FanoutStore>) {
    all_done(&*store, "job-1", 1).await;
    claim(&*store, "job-1", &claim_of(ClaimReason::Completion, "t-1", NOW_MS)).await.expect("the claim");
    let release = |token: &str| Release::new(token, NOW_MS + 5, "UpstreamError");
    assert!(!store.release("job-1", &release("t-0")).await.expect("release"), "another token releases nothing");
    assert!(store.release("job-1", &release("t-1")).await.expect("release"));
    let released = get(&*store, "job-1").await.expect("the job");
    assert_eq!(released.status, JobStatus::Completing);
    assert_eq!(released.fan_in_error.as_deref(), Some("UpstreamError"));
    assert_eq!(released.due_ms(), Some(NOW_MS + 5));
    assert_eq!(store.due("thumbnails", NOW_MS + 5, 10).await.expect("due"), vec!["job-1".to_owned()]);
    let retry = claim(&*store, "job-1", &claim_of(ClaimReason::Retry, "t-2", NOW_MS + 5)).await;
    assert_eq!(retry.map(|j| j.fan_in_attempts), Some(2));
}

/// The jobs of a kind that are due (running past their deadline, or
/// completing past their lease), earliest first, at most `limit`; never
/// another kind's, a job not due yet, or an ended one.
pub async fn due_lists_the_jobs_of_a_kind_by_time(store: Arc<dyn FanoutStore>) {
    let at = |id: &str, kind: &str, deadline_ms: u64| JobRecord::new(id, kind, 1, deadline_ms, NOW_MS);
    for job in [
        at("late", "thumbnails", NOW_MS + 20),
        at("later", "thumbnails", NOW_MS + 40),
        at("other-kind", "reports", NOW_MS + 5),
        at("not-yet", "thumbnails", NOW_MS + 100),
        at("completing", "thumbnails", NOW_MS + 1_000),
        at("ended", "thumbnails", NOW_MS + 1),
    ] {
        create(&*store, &job).await;
    }
    done(&*store, "completing", 0, "1").await;
    let claimed = JobClaim::new(ClaimReason::Completion, "t-1", NOW_MS, NOW_MS + 30);
    claim(&*store, "completing", &claimed).await.expect("the claim");
    done(&*store, "ended", 0, "1").await;
    claim(&*store, "ended", &claim_of(ClaimReason::Completion, "t-2", NOW_MS)).await.expect("the claim");
    store.finish("ended", &finish_of("t-2", JobStatus::Completed)).await.expect("finish");
    let due = store.due("thumbnails", NOW_MS + 50, 10).await.expect("due");
    assert_eq!(due, ["late", "completing", "later"], "earliest due first");
    assert_eq!(store.due("thumbnails", NOW_MS + 50, 2).await.expect("due"), ["late", "completing"]);
    assert_eq!(store.due("reports", NOW_MS + 50, 10).await.expect("due"), ["other-kind"]);
    assert!(store.due("thumbnails", NOW_MS + 10, 10).await.expect("due").is_empty());
}

/// Eight deliveries of one part recorded at once: exactly one counts.
pub async fn concurrent_records_of_one_part_count_once(store: Arc<dyn FanoutStore>) {
    create(&*store, &job("job-1", 2)).await;
    let outcomes = at_once(8, |i| {
        let store = store.clone();
        async move { store.record("job-1", 0, PartOutcome::Done(&i.to_string())).await.expect("record") }
    })
    .await;
    let counted: Vec<&Recorded> = outcomes.iter().filter(|o| matches!(o, Recorded::Counted { .. })).collect();
    assert_eq!(counted, [&Recorded::Counted { remaining: 1 }], "{outcomes:?}");
    assert_eq!(get(&*store, "job-1").await.map(|j| j.remaining()), Some(1));
}

/// Sixteen parts recorded at once each count once, each sees its own
/// remaining count, and exactly one sees zero (the one that runs the
/// fan-in).
pub async fn concurrent_records_of_every_part_reach_zero_once(store: Arc<dyn FanoutStore>) {
    create(&*store, &job("job-1", 16)).await;
    let outcomes = at_once(16, |i| {
        let store = store.clone();
        async move { store.record("job-1", i as u32, PartOutcome::Done("\"ok\"")).await.expect("record") }
    })
    .await;
    let mut remaining: Vec<u32> = outcomes
        .iter()
        .map(|o| match o {
            Recorded::Counted { remaining } => *remaining,
            other => panic!("a part was refused: {other:?}"),
        })
        .collect();
    remaining.sort_unstable();
    assert_eq!(remaining, (0..16).collect::<Vec<_>>());
}

/// Eight claims of one fan-in at once: exactly one wins.
pub async fn concurrent_claims_have_one_winner(store: Arc<dyn FanoutStore>) {
    all_done(&*store, "job-1", 2).await;
    let claims = at_once(8, |i| {
        let store = store.clone();
        async move {
            let claim = claim_of(ClaimReason::Completion, &format!("t-{i}"), NOW_MS);
            store.claim("job-1", &claim).await.expect("claim").map(|_| i)
        }
    })
    .await;
    let winners: Vec<usize> = claims.into_iter().flatten().collect();
    assert_eq!(winners.len(), 1, "{winners:?}");
    let token = get(&*store, "job-1").await.and_then(|j| j.claim).map(|c| c.token);
    assert_eq!(token, Some(format!("t-{}", winners[0])), "the winner's token holds the claim");
}
