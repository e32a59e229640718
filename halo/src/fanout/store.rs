//! What a store author implements: the [`FanoutStore`] trait (where jobs
//! live, and the atomic steps every implementation must provide), the
//! [`JobRecord`] it keeps, and the arguments and answers of its methods.
//! A service picks a store ([`MemoryFanoutStore`](super::MemoryFanoutStore),
//! [`DynamoDbFanoutStore`](super::DynamoDbFanoutStore)) and never needs
//! this module.

pub use super::job::{FanInClaim, JobRecord};
use super::job::{JobOutcome, JobPolicy, JobStatus, PartFailure};
use crate::durable::{StoreError, forward_store};
use crate::future::BoxFuture;

/// DynamoDB's item size limit (400 KB): a job's record, every result and
/// failure included, must fit in it.
pub(crate) const ITEM_LIMIT_BYTES: usize = 400 * 1024;

/// The answer to [`FanoutStore::create`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobCreated {
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
    /// [`JobPolicy::FailFast`]: [`JobOutcome::Completed`].
    Completion,
    /// Running under [`JobPolicy::FailFast`] with a
    /// failed part: [`JobOutcome::FailedFast`].
    FailFast,
    /// Running and its deadline is not after `now_ms`: [`JobOutcome::TimedOut`].
    Deadline,
    /// Completing and its claim's lease is not after `now_ms` (a fan-in
    /// that failed or whose run died): the outcome claimed before.
    Retry,
}

impl ClaimReason {
    /// The outcome a claim for this reason sets (`None` for a retry, which
    /// keeps the stored one).
    pub(crate) fn outcome(self) -> Option<JobOutcome> {
        match self {
            ClaimReason::Completion => Some(JobOutcome::Completed),
            ClaimReason::FailFast => Some(JobOutcome::FailedFast),
            ClaimReason::Deadline => Some(JobOutcome::TimedOut),
            ClaimReason::Retry => None,
        }
    }

    /// Whether the condition of a claim for this reason holds for `job`
    /// at `now_ms` (what a store checks atomically with its write).
    pub(crate) fn holds(self, job: &JobRecord, now_ms: u64) -> bool {
        let running = job.status == JobStatus::Running;
        match self {
            ClaimReason::Completion => {
                running && job.remaining() == 0 && (job.policy == JobPolicy::Collect || job.failed() == 0)
            }
            ClaimReason::FailFast => running && job.policy == JobPolicy::FailFast && job.failed() > 0,
            ClaimReason::Deadline => running && job.deadline_ms <= now_ms,
            ClaimReason::Retry => {
                job.status == JobStatus::Completing && job.claim.as_ref().is_none_or(|c| c.lease_until_ms <= now_ms)
            }
        }
    }
}

/// A claim of a job's fan-in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobClaim {
    /// Why.
    pub reason: ClaimReason,
    /// The claim's random token.
    pub token: String,
    /// The time of the claim (ms since the Unix epoch).
    pub now_ms: u64,
    /// When the claim lapses (ms since the Unix epoch).
    pub lease_until_ms: u64,
}

impl JobClaim {
    /// A claim for `reason` with `token`, made at `now_ms`, lapsing at
    /// `lease_until_ms` (ms since the Unix epoch).
    pub fn new(reason: ClaimReason, token: impl Into<String>, now_ms: u64, lease_until_ms: u64) -> JobClaim {
        JobClaim { reason, token: token.into(), now_ms, lease_until_ms }
    }
}

/// How a job's fan-in ended, for [`FanoutStore::finish`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
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

impl Finish {
    /// The end with `status` of the fan-in claimed with `token`, at
    /// `now_ms`, the record expiring at `expires_at_s`.
    pub fn new(token: impl Into<String>, status: JobStatus, now_ms: u64, expires_at_s: u64) -> Finish {
        Finish { token: token.into(), status, now_ms, expires_at_s }
    }
}

/// A fan-in that failed, for [`FanoutStore::release`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Release {
    /// The token of the claim that ran it.
    pub token: String,
    /// The time (ms since the Unix epoch): the claim's lease ends then.
    pub now_ms: u64,
    /// The code of the fan-in's error.
    pub error_code: String,
}

impl Release {
    /// The release at `now_ms` of the claim `token`, whose fan-in failed
    /// with `error_code`.
    pub fn new(token: impl Into<String>, now_ms: u64, error_code: impl Into<String>) -> Release {
        Release { token: token.into(), now_ms, error_code: error_code.into() }
    }
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
    fn create<'a>(&'a self, job: &'a JobRecord) -> BoxFuture<'a, Result<JobCreated, StoreError>>;

    /// Notes that every part of `job_id` was sent.
    fn mark_dispatched<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Records part `index`'s outcome, in one conditional write, if the
    /// job is running and the part is not recorded yet; returns how many
    /// parts remain, or the stored job when it refuses. A write that would
    /// take the record over DynamoDB's item limit (400 KB) fails with
    /// [`StoreErrorKind::TooLarge`](crate::durable::StoreErrorKind::TooLarge)
    /// and changes nothing.
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
    fn claim<'a>(
        &'a self,
        job_id: &'a str,
        claim: &'a JobClaim,
    ) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>>;

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
    fn create<'a>(&'a self, job: &'a JobRecord) -> BoxFuture<'a, Result<JobCreated, StoreError>>;
    fn mark_dispatched<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    fn record<'a>(&'a self, job_id: &'a str, index: u32, outcome: PartOutcome<'a>) -> BoxFuture<'a, Result<Recorded, StoreError>>;
    fn claim<'a>(&'a self, job_id: &'a str, claim: &'a JobClaim) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>>;
    fn finish<'a>(&'a self, job_id: &'a str, finish: &'a Finish) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn release<'a>(&'a self, job_id: &'a str, release: &'a Release) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn get<'a>(&'a self, job_id: &'a str) -> BoxFuture<'a, Result<Option<JobRecord>, StoreError>>;
    fn due<'a>(&'a self, kind: &'a str, now_ms: u64, limit: usize) -> BoxFuture<'a, Result<Vec<String>, StoreError>>;
});
