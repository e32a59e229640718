//! The fan-in: claimed by one run, run with backoff, marked done or left
//! for the sweeper.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::job::{JobOutcome, JobRecord, PartFailure};
use super::jobs::Fanout;
use super::store::{ClaimReason, Finish, JobClaim, Release};
use crate::durable::StoreError;
use crate::retry::retry;
use crate::{BoxFuture, Ctx, Error, IntoError};

/// What the fan-in receives: the job, how it ended, and every part's
/// result or failure.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FanIn<J, R> {
    /// The job id (use it as the idempotency key of the fan-in's side
    /// effects: a fan-in whose run dies is run again).
    pub job_id: String,
    /// The context the job was started with.
    pub context: J,
    /// How the job ended.
    pub outcome: JobOutcome,
    /// The number of parts.
    pub total: u32,
    /// The results of the parts that succeeded, by index.
    pub results: BTreeMap<u32, R>,
    /// The parts that failed, by index.
    pub failed: BTreeMap<u32, PartFailure>,
    /// The parts never recorded (a job that timed out, or ended at its
    /// first failure).
    pub missing: Vec<u32>,
    /// Which run of the fan-in this is (1 for the first).
    pub attempt: u32,
}

impl<J: DeserializeOwned, R: DeserializeOwned> FanIn<J, R> {
    /// The fan-in of a claimed `job`, its context and results decoded.
    pub(crate) fn from_record(job: &JobRecord) -> Result<FanIn<J, R>, Error> {
        let decode_error = |what: String| Error::internal(what).with_code("FanInDecode");
        let context = serde_json::from_str(&job.context)
            .map_err(|e| decode_error(format!("the context of job {} does not decode: {e}", job.job_id)))?;
        let mut results = BTreeMap::new();
        for (index, text) in &job.results {
            let result = serde_json::from_str(text).map_err(|e| {
                decode_error(format!("the result of part {index} of job {} does not decode: {e}", job.job_id))
            })?;
            results.insert(*index, result);
        }
        Ok(FanIn {
            job_id: job.job_id.clone(),
            context,
            outcome: job.outcome.unwrap_or(JobOutcome::Completed),
            total: job.total,
            results,
            failed: job.failures.clone(),
            missing: job.missing(),
            attempt: job.fan_in_attempts,
        })
    }
}

/// A fan-in function: any `async fn(FanIn<J, R>) -> Result<(), E>` with
/// `E:` [`IntoError`] (a closure too).
pub trait FanInFn<J, R>: Sync {
    /// Runs the fan-in.
    fn call(&self, fan_in: FanIn<J, R>) -> impl Future<Output = Result<(), Error>> + Send;
}

impl<J, R, F, Fut, E> FanInFn<J, R> for F
where
    F: Fn(FanIn<J, R>) -> Fut + Sync,
    Fut: Future<Output = Result<(), E>> + Send,
    E: IntoError,
{
    fn call(&self, fan_in: FanIn<J, R>) -> impl Future<Output = Result<(), Error>> + Send {
        let run = self(fan_in);
        async move { run.await.map_err(IntoError::into_error) }
    }
}

/// What a try at the fan-in did.
#[derive(Debug)]
pub(crate) enum FanInRun {
    /// The claim's condition did not hold (not ready, or another run has it).
    NotClaimed,
    /// This run ran it and the job ended this way.
    Ran(JobOutcome),
    /// This run ran it and it failed; the job waits for the sweeper.
    Failed,
}

impl Fanout {
    /// How long a claim made now lasts: the lease, cut to the current
    /// invocation's remaining time.
    fn lease(&self) -> Duration {
        let remaining = Ctx::with_current(|ctx| ctx.map(Ctx::remaining));
        remaining.map_or(self.fan_in_lease, |left| left.min(self.fan_in_lease))
    }

    /// Claims the fan-in of `job_id` for `reason` and, if this run gets
    /// it, runs `fan_in` (again on retryable errors, within the budget),
    /// then ends the job, or releases the claim for the sweeper.
    ///
    /// Boxed: the worker's and the dead-letter handler's futures nest it
    /// deep inside a batch's, and a handler's type must stay small enough
    /// for the compiler's layout queries.
    pub(crate) fn try_fan_in<'a, J, R>(
        &'a self,
        job_id: &'a str,
        reason: ClaimReason,
        fan_in: &'a impl FanInFn<J, R>,
    ) -> BoxFuture<'a, Result<FanInRun, StoreError>>
    where
        J: DeserializeOwned + 'a,
        R: DeserializeOwned + 'a,
    {
        Box::pin(self.run_fan_in(job_id, reason, fan_in))
    }

    async fn run_fan_in<J, R>(
        &self,
        job_id: &str,
        reason: ClaimReason,
        fan_in: &impl FanInFn<J, R>,
    ) -> Result<FanInRun, StoreError>
    where
        J: DeserializeOwned,
        R: DeserializeOwned,
    {
        let now = self.clock.now_ms();
        let token = uuid::Uuid::new_v4().to_string();
        let claim = JobClaim { reason, token, now_ms: now, lease_until_ms: now + self.lease().as_millis() as u64 };
        let Some(job) = self.store.claim(job_id, &claim).await? else {
            return Ok(FanInRun::NotClaimed);
        };
        let outcome = job.outcome.unwrap_or(JobOutcome::Completed);
        tracing::info!(
            job_id,
            outcome = outcome.as_str(),
            attempt = job.fan_in_attempts,
            completed = job.completed(),
            failed = job.failed(),
            missing = job.remaining(),
            "fan-in started"
        );
        let policy = match Ctx::with_current(|ctx| ctx.map(Ctx::budget_deadline)) {
            Some(deadline) => self.fan_in_retry.deadline(deadline),
            None => self.fan_in_retry,
        };
        let claimed = &job;
        let run = retry(
            &policy,
            move |_| async move {
                let run = fan_in.call(FanIn::from_record(claimed)?);
                run.await
            },
            |err: &Error| err.kind().is_retryable(),
        )
        .await;
        let now = self.clock.now_ms();
        match run.result {
            Ok(()) => {
                let finish = Finish {
                    token: claim.token,
                    status: outcome.status(),
                    now_ms: now,
                    expires_at_s: now / 1000 + self.retention.as_secs(),
                };
                if !self.store.finish(job_id, &finish).await? {
                    tracing::warn!(job_id, "the fan-in ran after its claim lapsed; another run may have run it too");
                }
                tracing::info!(job_id, outcome = outcome.as_str(), attempts = run.attempts, "fan-in done");
                Ok(FanInRun::Ran(outcome))
            }
            Err(err) => {
                let chain = err.source_chain();
                tracing::error!(
                    job_id,
                    error_code = err.code(),
                    error_message = err.message(),
                    error_cause = (!chain.is_empty()).then_some(chain.as_str()),
                    attempts = run.attempts,
                    "fan-in failed: the sweeper runs it again"
                );
                let release = Release { token: claim.token, now_ms: now, error_code: err.code().to_owned() };
                self.store.release(job_id, &release).await?;
                Ok(FanInRun::Failed)
            }
        }
    }
}
