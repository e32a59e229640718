//! A job's status, for an API answering "is it ready?".

use serde::Serialize;

use super::error::FanoutError;
use super::job::{JobOutcome, JobRecord, JobStatus};
use super::jobs::Fanout;

/// A failed part as a status shows it: its index and code (never the
/// failure's detail, which may hold internal text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FailedPart {
    /// The part's index.
    pub index: u32,
    /// Why it failed, e.g. `DeadLettered`.
    pub code: String,
}

/// Where a job is, safe to return to a client: its status, its counts,
/// the missing and failed parts (not the results).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct JobView {
    /// The job id.
    pub job_id: String,
    /// Where it is.
    pub status: JobStatus,
    /// How it ended (or is ending).
    pub outcome: Option<JobOutcome>,
    /// The number of parts.
    pub total: u32,
    /// Parts done.
    pub completed: u32,
    /// Parts failed.
    pub failed: u32,
    /// The parts not recorded yet.
    pub missing: Vec<u32>,
    /// The failed parts.
    pub failed_parts: Vec<FailedPart>,
    /// The deadline (ms since the Unix epoch).
    pub deadline_ms: u64,
    /// When it ended (ms since the Unix epoch).
    pub finished_at_ms: Option<u64>,
}

impl From<&JobRecord> for JobView {
    fn from(job: &JobRecord) -> JobView {
        JobView {
            job_id: job.job_id.clone(),
            status: job.status,
            outcome: job.outcome,
            total: job.total,
            completed: job.completed(),
            failed: job.failed(),
            missing: job.missing(),
            failed_parts: job
                .failures
                .iter()
                .map(|(index, failure)| FailedPart { index: *index, code: failure.code.clone() })
                .collect(),
            deadline_ms: job.deadline_ms,
            finished_at_ms: job.finished_at_ms,
        }
    }
}

impl Fanout {
    /// The status of `job_id` (one consistent read), `None` if there is
    /// no such job.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use halo::fanout::{Fanout, JobStatus, NewJob};
    ///
    /// let fanout = Fanout::in_memory("thumbnails");
    /// fanout.start(NewJob::new("photo-1", ()), &[64, 256]).await.unwrap();
    /// let status = fanout.status("photo-1").await.unwrap().unwrap();
    /// assert_eq!((status.status, status.completed, status.missing), (JobStatus::Running, 0, vec![0, 1]));
    /// assert!(fanout.status("photo-2").await.unwrap().is_none());
    /// # });
    /// ```
    pub async fn status(&self, job_id: &str) -> Result<Option<JobView>, FanoutError> {
        Ok(self.job(job_id).await?.as_ref().map(JobView::from))
    }

    /// The whole record of `job_id` (results included), `None` if there is
    /// no such job.
    pub(crate) async fn job(&self, job_id: &str) -> Result<Option<JobRecord>, FanoutError> {
        Ok(self.store.get(job_id).await?)
    }
}
