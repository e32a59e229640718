//! The [`FanoutStore`] trait: where jobs live, and the atomic steps every
//! implementation must provide.

use super::job::{JobRecord, JobStatus, Outcome, PartFailure, Policy};
use crate::BoxFuture;
use crate::durable::{StoreError, forward_store};

/// DynamoDB's item size limit (400 KB): a job's record, every result and
/// failure included, must fit in it.
pub const ITEM_LIMIT_BYTES: usize = 400 * 1024;

/// The answer to [`FanoutStore::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The job was written.
    New,
    /// A job with this id exists; it is returned as stored, unchanged.
    Existing(Box<JobRecord>),
}

/// A part's outcome to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartOutcome<'a> {
    /// The part succeeded with this result (JSON text).
    Done(&'a str),
    /// The part failed for good.
    Failed(&'a PartFailure),
}

/// The answer to [`FanoutStore::record`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// This call recorded the part; `remaining` parts are still missing
    /// after it (0: this part completed the job).
    Counted {
        /// Parts not recorded yet.
        remaining: u32,
    },
    /// Nothing was written: the part was recorded before, or the job is
    /// not running. The job as stored (`None`: no such job).
    Refused(Option<Box<JobRecord>>),
}

/// Why a run claims a job's fan-in; each reason has its condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimReason {
    /// Running, every part recorded, and no failed part under
    /// [`Policy::FailFast`](super::Policy::FailFast): [`Outcome::Completed`].
    Completion,
    /// Running under [`Policy::FailFast`](super::Policy::FailFast) with a
    /// failed part: [`Outcome::FailedFast`].
    FailFast,
    /// Running and its deadline is not after `now_ms`: [`Outcome::TimedOut`].
    Deadline,
    /// Completing and its claim's lease is not after `now_ms` (a fan-in
    /// that failed or whose run died): the outcome claimed before.
    Retry,
}

impl ClaimReason {
    /// The outcome a claim for this reason sets (`None` for a retry, which
    /// keeps the stored one).
    pub fn outcome(self) -> Option<Outcome> {
        match self {
            ClaimReason::Completion => Some(Outcome::Completed),
            ClaimReason::FailFast => Some(Outcome::FailedFast),
            ClaimReason::Deadline => Some(Outcome::TimedOut),
            ClaimReason::Retry => None,
        }
    }

    /// Whether the condition of a claim for this reason holds for `job`
    /// at `now_ms` (what a store checks atomically with its write).
    ///
    /// ```
    /// use halo::fanout::{ClaimReason, JobRecord};
    ///
    /// let job = JobRecord::new("job-1", "thumbnails", 2, 60_000, 1_000);
    /// assert!(!ClaimReason::Completion.holds(&job, 1_000), "parts are missing");
    /// assert!(ClaimReason::Deadline.holds(&job, 60_000));
    /// ```
    pub fn holds(self, job: &JobRecord, now_ms: u64) -> bool {
        let running = job.status == JobStatus::Running;
        match self {
            ClaimReason::Completion => {
                running && job.remaining() == 0 && (job.policy == Policy::Collect || job.failed() == 0)
            }
            ClaimReason::FailFast => running && job.policy == Policy::FailFast && job.failed() > 0,
            ClaimReason::Deadline => running && job.deadline_ms <= now_ms,
            ClaimReason::Retry => {
                job.status == JobStatus::Completing && job.claim.as_ref().is_none_or(|c| c.lease_until_ms <= now_ms)
            }
        }
    }
}

/// A claim of a job's fan-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    /// Why.
    pub reason: ClaimReason,
    /// The claim's random token.
    pub token: String,
    /// The time of the claim (ms since the Unix epoch).
    pub now_ms: u64,
    /// When the claim lapses (ms since the Unix epoch).
    pub lease_until_ms: u64,
}

/// How a job's fan-in ended, for [`FanoutStore::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish {
    /// The token of the claim that ran it.
    pub token: String,
    /// The final status (its outcome's).
    pub status: JobStatus,
    /// The time (ms since the Unix epoch).
    pub now_ms: u64,
    /// When the record expires (epoch seconds, a TTL).
    pub expires_at_s: u64,
}

/// A fan-in that failed, for [`FanoutStore::release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The token of the claim that ran it.
    pub token: String,
    /// The time (ms since the Unix epoch): the claim's lease ends then.
    pub now_ms: u64,
    /// The code of the fan-in's error.
    pub error_code: String,
}

/// Storage for fan-out jobs.
///
/// [`MemoryFanoutStore`](super::MemoryFanoutStore) (local runs, unit tests)
/// and [`DynamoDbFanoutStore`](super::DynamoDbFanoutStore) implement it; so
/// do `Arc<S>`, `Box<S>` and `&S`. Every write is atomic and conditional: of
/// concurrent writes whose conditions exclude each other (two records of
/// one part, two claims of one fan-in), exactly one succeeds. The
/// behaviour suite `halo_test_support::contracts::fanout` checks an
/// implementation.
pub trait FanoutStore: Send + Sync {
    /// Writes `job` unless a job with its id exists (then returns it,
    /// unchanged, in the same round trip).
    fn create<'a>(&'a self, job: &'a JobRecord) -> BoxFuture<'a, Result<Created, StoreError>>;

    /// Notes that every part of `job_id` was sent.
    fn mark_dispatched<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Records part `index`'s outcome, in one conditional write, if the
    /// job is running and the part is not recorded yet; returns how many
    /// parts remain, or the stored job when it refuses. A write that would
    /// take the record over [`ITEM_LIMIT_BYTES`] fails with
    /// [`StoreError::is_too_large`] and changes nothing.
    fn record<'a>(
        &'a self,
        job_id: &'a str,
        index: u32,
        outcome: PartOutcome<'a>,
    ) -> BoxFuture<'a, Result<Recorded, StoreError>>;

    /// Claims the fan-in if `claim.reason`'s condition holds: the job
    /// becomes `Completing` with the claim, its outcome set (kept for a
    /// retry) and its attempts counted; returns the job after the write
    /// (every result included), or `None` when the condition does not
    /// hold (or there is no such job).
    fn claim<'a>(&'a self, job_id: &'a str, claim: &'a Claim) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>>;

    /// Ends the job with `finish.status` if `finish.token` still holds its
    /// claim; returns whether it did.
    fn finish<'a>(&'a self, job_id: &'a str, finish: &'a Finish) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Gives up the claim `release.token` after a failed fan-in: its lease
    /// ends at `release.now_ms`, so the sweeper retries it, and the error's
    /// code is kept. Returns whether the token still held the claim.
    fn release<'a>(&'a self, job_id: &'a str, release: &'a Release) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// The job `job_id`, read consistently.
    fn get<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>>;

    /// The ids of the jobs of `kind` that are not final and due
    /// ([`JobRecord::due_ms`]) at `now_ms`, at most `limit`, earliest due
    /// first.
    fn due<'a>(&'a self, kind: &'a str, now_ms: u64, limit: usize) -> BoxFuture<'a, Result<Vec<String>, StoreError>>;
}

forward_store!(FanoutStore {
    fn create<'a>(&'a self, job: &'a JobRecord) -> BoxFuture<'a, Result<Created, StoreError>>;
    fn mark_dispatched<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    fn record<'a>(&'a self, job_id: &'a str, index: u32, outcome: PartOutcome<'a>) -> BoxFuture<'a, Result<Recorded, StoreError>>;
    fn claim<'a>(&'a self, job_id: &'a str, claim: &'a Claim) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>>;
    fn finish<'a>(&'a self, job_id: &'a str, finish: &'a Finish) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn release<'a>(&'a self, job_id: &'a str, release: &'a Release) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn get<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>>;
    fn due<'a>(&'a self, kind: &'a str, now_ms: u64, limit: usize) -> BoxFuture<'a, Result<Vec<String>, StoreError>>;
});
