//! The sweeper: ends jobs past their deadline and retries stuck fan-ins,
//! so no job stays unfinished.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::FanoutError;
use super::fan_in::{FanInFn, FanInRun};
use super::job::JobOutcome;
use super::jobs::Fanout;
use super::store::ClaimReason;

/// A job the sweeper ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SweptJob {
    /// The job id.
    pub job_id: String,
    /// How it ended.
    pub outcome: JobOutcome,
    /// The parts that never arrived.
    pub missing: Vec<u32>,
}

/// What [`Fanout::sweep`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SweepReport {
    /// Jobs whose fan-in ran now, and how they ended.
    pub ended: Vec<SweptJob>,
    /// Jobs whose fan-in failed again: the next sweep retries them.
    pub failed: Vec<String>,
    /// Due jobs that needed nothing after all (another run took them).
    pub skipped: Vec<String>,
}

impl Fanout {
    /// For a scheduled function: finds the jobs of this kind that are due
    /// (at most `limit`, through the store's index, not a scan) and ends
    /// each:
    ///
    /// - a running job past its deadline with parts missing: `fan_in` runs
    ///   with [`JobOutcome::TimedOut`] and the missing parts listed;
    /// - a running job whose parts are all recorded, or that has a failed
    ///   part under fail-fast, whose fan-in was never claimed (its last
    ///   worker died): its fan-in runs;
    /// - a completing job whose fan-in failed or whose run died (its claim
    ///   lapsed): its fan-in runs again.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use halo::fanout::{FanIn, Fanout, NewJob, JobOutcome};
    /// use halo::platform::ManualClock;
    ///
    /// async fn report(fan_in: FanIn<(), u32>) -> Result<(), halo::Error> {
    ///     assert_eq!((fan_in.outcome, fan_in.missing), (JobOutcome::TimedOut, vec![0, 1]));
    ///     Ok(())
    /// }
    ///
    /// let clock = ManualClock::at(1_000);
    /// let fanout = Fanout::in_memory("sums").clock(Arc::new(clock.clone()));
    /// let job = NewJob::new("job-1", ()).deadline(Duration::from_secs(60));
    /// fanout.start(job, &[1, 2]).await.unwrap();
    /// assert!(fanout.sweep(report, 100).await.unwrap().ended.is_empty(), "not due yet");
    /// clock.advance_ms(60_000);
    /// let report = fanout.sweep(report, 100).await.unwrap();
    /// assert_eq!(report.ended[0].missing, vec![0, 1]);
    /// # });
    /// ```
    pub async fn sweep<R, J>(&self, fan_in: impl FanInFn<J, R>, limit: usize) -> Result<SweepReport, FanoutError>
    where
        R: DeserializeOwned,
        J: DeserializeOwned,
    {
        let now = self.clock.now_ms();
        let mut report = SweepReport::default();
        for job_id in self.store.due(&self.kind, now, limit).await? {
            let Some(job) = self.store.get(&job_id).await? else {
                report.skipped.push(job_id);
                continue;
            };
            let reasons = [ClaimReason::FailFast, ClaimReason::Completion, ClaimReason::Deadline, ClaimReason::Retry];
            let Some(reason) = reasons.into_iter().find(|r| r.holds(&job, now)) else {
                report.skipped.push(job_id);
                continue;
            };
            let missing = job.missing();
            match reason {
                ClaimReason::Deadline => {
                    tracing::warn!(job_id = %job_id, missing = ?missing, "the job passed its deadline with parts missing");
                }
                ClaimReason::Retry => {
                    tracing::warn!(job_id = %job_id, attempts = job.fan_in_attempts, last_error = job.fan_in_error.as_deref(), "retrying the job's fan-in");
                }
                _ => tracing::warn!(job_id = %job_id, "ending a job whose fan-in was never claimed"),
            }
            match self.try_fan_in(&job_id, reason, &fan_in).await? {
                FanInRun::Ran(outcome) => report.ended.push(SweptJob { job_id, outcome, missing }),
                FanInRun::Failed => report.failed.push(job_id),
                FanInRun::NotClaimed => report.skipped.push(job_id),
            }
        }
        tracing::info!(
            ended = report.ended.len(),
            failed = report.failed.len(),
            skipped = report.skipped.len(),
            "sweep done"
        );
        Ok(report)
    }
}
