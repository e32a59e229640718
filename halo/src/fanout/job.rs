//! The job model: a job's status, policy, parts' outcomes and the record a
//! [`FanoutStore`](super::store::FanoutStore) keeps of it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a job does when one of its parts fails for good (its message
/// reached the dead-letter queue, or its result could not be stored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum JobPolicy {
    /// Wait for every part; the fan-in runs with the failed parts listed
    /// ([`JobOutcome::Completed`]). The default.
    #[default]
    Collect,
    /// End the job at the first failed part: the fan-in runs at once with
    /// [`JobOutcome::FailedFast`], and later parts are no longer recorded.
    FailFast,
}

impl JobPolicy {
    /// The name stored with the job (`COLLECT`, `FAIL_FAST`), its serde form.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobPolicy::Collect => "COLLECT",
            JobPolicy::FailFast => "FAIL_FAST",
        }
    }

    /// The policy stored as `name`.
    pub(crate) fn parse(name: &str) -> Option<JobPolicy> {
        [JobPolicy::Collect, JobPolicy::FailFast].into_iter().find(|p| p.as_str() == name)
    }
}

/// Where a job is.
///
/// `Running` → `Completing` (one run holds the fan-in) → `Completed`,
/// `Failed` or `TimedOut` (final: the fan-in ran). A fan-in that fails
/// leaves the job `Completing` with its claim released, and the sweeper
/// runs it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum JobStatus {
    /// Parts are being processed.
    Running,
    /// The fan-in is running, or failed and waits for the sweeper.
    Completing,
    /// Every part was recorded (some possibly failed, under
    /// [`JobPolicy::Collect`]) and the fan-in ran: final.
    Completed,
    /// A part failed under [`JobPolicy::FailFast`] and the fan-in ran: final.
    Failed,
    /// The deadline passed with parts missing and the fan-in ran: final.
    TimedOut,
}

impl JobStatus {
    /// The name stored with the job (`RUNNING`, `COMPLETING`, …), its serde form.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "RUNNING",
            JobStatus::Completing => "COMPLETING",
            JobStatus::Completed => "COMPLETED",
            JobStatus::Failed => "FAILED",
            JobStatus::TimedOut => "TIMED_OUT",
        }
    }

    /// The status stored as `name`.
    pub(crate) fn parse(name: &str) -> Option<JobStatus> {
        [JobStatus::Running, JobStatus::Completing, JobStatus::Completed, JobStatus::Failed, JobStatus::TimedOut]
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// Whether the job has ended (its fan-in ran).
    ///
    /// ```
    /// use halo::fanout::JobStatus;
    /// assert!(JobStatus::TimedOut.is_final() && !JobStatus::Completing.is_final());
    /// ```
    pub fn is_final(self) -> bool {
        matches!(self, JobStatus::Completed | JobStatus::Failed | JobStatus::TimedOut)
    }
}

/// How a job ended, as its fan-in is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum JobOutcome {
    /// Every part was recorded; under [`JobPolicy::Collect`] some may have
    /// failed ([`FanIn::failed`](super::FanIn::failed)).
    Completed,
    /// A part failed under [`JobPolicy::FailFast`].
    FailedFast,
    /// The deadline passed with parts missing ([`FanIn::missing`](super::FanIn::missing)).
    TimedOut,
}

impl JobOutcome {
    /// The final status of a job that ends this way.
    pub(crate) fn status(self) -> JobStatus {
        match self {
            JobOutcome::Completed => JobStatus::Completed,
            JobOutcome::FailedFast => JobStatus::Failed,
            JobOutcome::TimedOut => JobStatus::TimedOut,
        }
    }

    /// The name stored with the job (that of its final status).
    pub(crate) fn as_str(self) -> &'static str {
        self.status().as_str()
    }

    /// The outcome stored as `name`.
    pub(crate) fn parse(name: &str) -> Option<JobOutcome> {
        [JobOutcome::Completed, JobOutcome::FailedFast, JobOutcome::TimedOut].into_iter().find(|o| o.as_str() == name)
    }
}

/// Why a part failed: a stable code and a detail for operators (the
/// detail may hold internal text: never put it in a response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PartFailure {
    /// The stable code, e.g. `DeadLettered` or `PartResultTooLarge`.
    pub code: String,
    /// What happened, for logs and operators.
    pub detail: String,
}

impl PartFailure {
    /// A failure with this code and detail.
    pub fn new(code: impl Into<String>, detail: impl Into<String>) -> PartFailure {
        PartFailure { code: code.into(), detail: detail.into() }
    }
}

/// The run that holds a job's fan-in, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FanInClaim {
    /// The claim's random token: only its holder may finish or release it.
    pub token: String,
    /// When the claim lapses (ms since the Unix epoch): after it, the
    /// sweeper may run the fan-in again.
    pub lease_until_ms: u64,
}

/// The claim a store keeps once `claim` won.
impl From<&super::store::JobClaim> for FanInClaim {
    fn from(claim: &super::store::JobClaim) -> FanInClaim {
        FanInClaim { token: claim.token.clone(), lease_until_ms: claim.lease_until_ms }
    }
}

/// A job as stored: one record (one DynamoDB item) holding its counters,
/// every recorded part's result or failure, and its fan-in's state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct JobRecord {
    /// The job id (the key).
    pub job_id: String,
    /// The kind of job (the [`Fanout`](super::Fanout)'s name): the sweeper
    /// of a kind only sees jobs of that kind.
    pub kind: String,
    /// Where the job is.
    pub status: JobStatus,
    /// What a failed part does.
    pub policy: JobPolicy,
    /// The number of parts.
    pub total: u32,
    /// The recorded results, by part index (JSON text).
    pub results: BTreeMap<u32, String>,
    /// The failed parts, by index.
    pub failures: BTreeMap<u32, PartFailure>,
    /// The job's context given at start (JSON text), handed to the fan-in.
    pub context: String,
    /// When the sweeper ends the job if parts are still missing (ms since
    /// the Unix epoch).
    pub deadline_ms: u64,
    /// When the job was created (ms since the Unix epoch).
    pub created_at_ms: u64,
    /// Whether every part was sent; a start interrupted before that sends
    /// them again when started again.
    pub dispatched: bool,
    /// How the job ends, once its fan-in is claimed.
    pub outcome: Option<JobOutcome>,
    /// The fan-in's claim, while `Completing`.
    pub claim: Option<FanInClaim>,
    /// How many times the fan-in was claimed.
    pub fan_in_attempts: u32,
    /// The code of the fan-in's last error, while it waits for a retry.
    pub fan_in_error: Option<String>,
    /// When the job ended (ms since the Unix epoch).
    pub finished_at_ms: Option<u64>,
    /// When the ended job's record expires (epoch seconds, a TTL).
    pub expires_at_s: Option<u64>,
    /// The correlation id of the invocation that started the job.
    pub correlation_id: Option<String>,
}

impl JobRecord {
    /// A new running job of `total` parts, created at `now_ms`, with an
    /// empty context (`null`) and [`JobPolicy::Collect`].
    ///
    /// ```
    /// let job = halo::fanout::store::JobRecord::new("job-1", "thumbnails", 3, 60_000, 1_000);
    /// assert_eq!((job.remaining(), job.due_ms()), (3, Some(60_000)));
    /// ```
    pub fn new(
        job_id: impl Into<String>,
        kind: impl Into<String>,
        total: u32,
        deadline_ms: u64,
        now_ms: u64,
    ) -> JobRecord {
        JobRecord {
            job_id: job_id.into(),
            kind: kind.into(),
            status: JobStatus::Running,
            policy: JobPolicy::Collect,
            total,
            results: BTreeMap::new(),
            failures: BTreeMap::new(),
            context: "null".to_owned(),
            deadline_ms,
            created_at_ms: now_ms,
            dispatched: false,
            outcome: None,
            claim: None,
            fan_in_attempts: 0,
            fan_in_error: None,
            finished_at_ms: None,
            expires_at_s: None,
            correlation_id: None,
        }
    }

    /// Parts recorded as done.
    pub(crate) fn completed(&self) -> u32 {
        self.results.len() as u32
    }

    /// Parts recorded as failed.
    pub(crate) fn failed(&self) -> u32 {
        self.failures.len() as u32
    }

    /// Parts not recorded yet.
    pub fn remaining(&self) -> u32 {
        self.total.saturating_sub(self.completed() + self.failed())
    }

    /// The indexes of the parts not recorded yet, in order.
    pub(crate) fn missing(&self) -> Vec<u32> {
        (0..self.total).filter(|i| !self.is_recorded(*i)).collect()
    }

    /// Whether part `index` is recorded (done or failed).
    pub(crate) fn is_recorded(&self, index: u32) -> bool {
        self.results.contains_key(&index) || self.failures.contains_key(&index)
    }

    /// When the sweeper should look at the job (ms since the Unix epoch):
    /// its deadline while running, its claim's lease while completing,
    /// never once final.
    pub fn due_ms(&self) -> Option<u64> {
        match self.status {
            JobStatus::Running => Some(self.deadline_ms),
            JobStatus::Completing => Some(self.claim.as_ref().map_or(0, |c| c.lease_until_ms)),
            _ => None,
        }
    }
}
