//! The worker: a part's message, its work, its result recorded once, and
//! the fan-in when it completes the job.

use std::future::Future;

use aws_lambda_events::event::sqs::SqsMessage;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::dispatch::{JOB_ID_ATTRIBUTE, PART_ATTRIBUTE};
use super::fan_in::{FanInFn, FanInRun};
use super::job::{JobRecord, JobStatus, PartFailure};
use super::jobs::Fanout;
use super::store::{ClaimReason, ITEM_LIMIT_BYTES, PartOutcome, Recorded};
use crate::batch::{BatchOptions, BatchResponse, RecordData, Sqs, SqsRecord};
use crate::durable::StoreError;
use crate::{Error, IntoError};

/// One part as a worker receives it: its job, its index and its body,
/// from an SQS record of the parts queue.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Part<P> {
    /// The job.
    pub job_id: String,
    /// The part's index (0-based, in the order the parts were given).
    pub index: u32,
    /// The part.
    pub body: P,
    /// The SQS message id.
    pub message_id: String,
    /// How many times SQS delivered the message (1 the first time).
    pub receive_count: u32,
}

impl<P> Part<P> {
    /// The part an SQS record carries: its job id and index from the
    /// message attributes [`Fanout::start`] set. A message without them
    /// is `NotAFanoutPart` (400).
    pub fn from_record(record: SqsRecord<P>) -> Result<Part<P>, Error> {
        let Some((job_id, index)) = part_of(&record.message) else {
            return Err(Error::bad_request("the message is not a fan-out part").with_code("NotAFanoutPart"));
        };
        let receive_count = record.receive_count();
        Ok(Part { job_id, index, body: record.body, message_id: record.message_id, receive_count })
    }
}

/// The job id and part index a message carries in its attributes.
pub(crate) fn part_of(message: &SqsMessage) -> Option<(String, u32)> {
    let attribute = |name: &str| message.message_attributes.get(name)?.string_value.clone();
    let job_id = attribute(JOB_ID_ATTRIBUTE).filter(|id| !id.is_empty())?;
    let index = attribute(PART_ATTRIBUTE)?.parse().ok()?;
    Some((job_id, index))
}

/// A part's work: any `async fn(Part<P>) -> Result<R, E>` with `E:`
/// [`IntoError`] (a closure too).
pub trait PartFn<P, R>: Sync {
    /// Does the part's work.
    fn call(&self, part: Part<P>) -> impl Future<Output = Result<R, Error>> + Send;
}

impl<P, R, F, Fut, E> PartFn<P, R> for F
where
    F: Fn(Part<P>) -> Fut + Sync,
    Fut: Future<Output = Result<R, E>> + Send,
    E: IntoError,
{
    fn call(&self, part: Part<P>) -> impl Future<Output = Result<R, Error>> + Send {
        let run = self(part);
        async move { run.await.map_err(IntoError::into_error) }
    }
}

/// What recording a part did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PartRecording {
    /// This delivery recorded the part (and ran the fan-in if the part
    /// completed the job). A write whose answer was lost, sent again by the
    /// SDK, finds the part holding its outcome while the job runs: that is
    /// recorded too, never a duplicate.
    Recorded,
    /// The part was recorded before (a redelivery): nothing changed.
    Duplicate,
    /// The job is not running (it ended, or no longer exists): nothing
    /// was recorded.
    JobNotRunning,
    /// The result did not fit the job's record: the part was recorded as
    /// failed with `PartResultTooLarge`.
    TooLarge,
}

impl Fanout {
    /// The worker's whole batch: runs `work` on each part of `batch`
    /// (through [`Sqs::process`], so partial failures, in-place retries
    /// and concurrency work as for any batch), records each result once
    /// ([`Fanout::record_result`]) and runs `fan_in` in the worker whose
    /// part completes the job.
    ///
    /// A part whose work fails is reported in `batchItemFailures`: SQS
    /// delivers it again, and after the queue's `maxReceiveCount` moves it
    /// to the dead-letter queue, whose handler records it as failed
    /// ([`Fanout::process_dead_letters`]). A part's work may run more than
    /// once (a redelivery, a crash after the work); its result is recorded
    /// once, the first time.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use halo::batch::BatchOptions;
    /// use halo::fanout::{FanIn, Fanout, NewJob, Part};
    ///
    /// async fn square(part: Part<u64>) -> Result<u64, halo::Error> {
    ///     Ok(part.body * part.body)
    /// }
    ///
    /// async fn sum(fan_in: FanIn<String, u64>) -> Result<(), halo::Error> {
    ///     assert_eq!(fan_in.results.values().sum::<u64>(), 1 + 4 + 9);
    ///     Ok(())
    /// }
    ///
    /// let fanout = Fanout::in_memory("squares");
    /// fanout.start(NewJob::new("job-1", "squares of 1, 2, 3"), &[1_u64, 2, 3]).await.unwrap();
    /// // A local run hands the queued parts to `process` as SQS would.
    /// let run = fanout.run_local(&BatchOptions::default(), square, sum).await.unwrap();
    /// assert_eq!(run.deliveries, 3);
    /// let status = fanout.status("job-1").await.unwrap().unwrap();
    /// assert_eq!(status.status, halo::fanout::JobStatus::Completed);
    /// # });
    /// ```
    pub async fn process<P, R, J>(
        &self,
        batch: Sqs<P>,
        options: &BatchOptions,
        work: impl PartFn<P, R>,
        fan_in: impl FanInFn<J, R>,
    ) -> Result<BatchResponse, Error>
    where
        P: RecordData,
        R: Serialize + DeserializeOwned,
        J: DeserializeOwned,
    {
        let (work, fan_in) = (&work, &fan_in);
        batch
            .process(options, |record| async move {
                let part = Part::from_record(record)?;
                let (job_id, index) = (part.job_id.clone(), part.index);
                let result = work.call(part).await?;
                self.record_result(&job_id, index, &result, fan_in).await.map(drop)
            })
            .await
    }

    /// Records `result` as part `index`'s, once: one conditional write
    /// and no read (a redelivered part changes nothing). If the part
    /// completes the job, claims the fan-in and runs it here. A result
    /// that does not fit the job's record (400 KB for every result
    /// together) records the part as failed with `PartResultTooLarge`.
    pub async fn record_result<R, J>(
        &self,
        job_id: &str,
        index: u32,
        result: &R,
        fan_in: &impl FanInFn<J, R>,
    ) -> Result<PartRecording, Error>
    where
        R: Serialize + DeserializeOwned,
        J: DeserializeOwned,
    {
        let text = serde_json::to_string(result)?;
        let recorded = if text.len() >= ITEM_LIMIT_BYTES {
            Err(StoreError::too_large("UpdateItem", format!("a result of {} bytes", text.len())))
        } else {
            self.store.record(job_id, index, PartOutcome::Done(&text)).await
        };
        match recorded {
            Ok(Recorded::Counted { remaining }) => {
                tracing::info!(job_id, part = index, remaining, "part recorded");
                if remaining == 0 {
                    self.try_fan_in(job_id, ClaimReason::Completion, fan_in).await?;
                }
                Ok(PartRecording::Recorded)
            }
            Ok(Recorded::Refused(job)) => self.refused(job_id, index, PartOutcome::Done(&text), job, fan_in).await,
            Err(err) if err.is_too_large() => {
                tracing::error!(
                    job_id,
                    part = index,
                    bytes = text.len(),
                    "the part's result does not fit the job's record (400 KB for all results): store it elsewhere and return its key"
                );
                let failure = PartFailure::new(
                    "PartResultTooLarge",
                    format!("a result of {} bytes does not fit the job's 400 KB record", text.len()),
                );
                self.record_failure(job_id, index, &failure, fan_in).await?;
                Ok(PartRecording::TooLarge)
            }
            Err(err) => Err(err.into_error()),
        }
    }

    /// Records part `index` as failed for good, once, and ends the job per
    /// its policy: at once under [`JobPolicy::FailFast`](super::JobPolicy::FailFast),
    /// with the fan-in once every part is recorded under
    /// [`JobPolicy::Collect`](super::JobPolicy::Collect).
    pub async fn record_failure<R, J>(
        &self,
        job_id: &str,
        index: u32,
        failure: &PartFailure,
        fan_in: &impl FanInFn<J, R>,
    ) -> Result<PartRecording, Error>
    where
        R: DeserializeOwned,
        J: DeserializeOwned,
    {
        match self.store.record(job_id, index, PartOutcome::Failed(failure)).await? {
            Recorded::Counted { remaining } => {
                tracing::warn!(job_id, part = index, code = %failure.code, remaining, "part recorded as failed");
                // The claim's condition checks the policy: a collecting job
                // refuses it (this path is rare; it costs no read).
                let fail_fast = self.try_fan_in(job_id, ClaimReason::FailFast, fan_in).await?;
                if matches!(fail_fast, FanInRun::NotClaimed) && remaining == 0 {
                    self.try_fan_in(job_id, ClaimReason::Completion, fan_in).await?;
                }
                Ok(PartRecording::Recorded)
            }
            Recorded::Refused(job) => self.refused(job_id, index, PartOutcome::Failed(failure), job, fan_in).await,
        }
    }

    /// A record the store refused: this write's own earlier attempt (its
    /// answer lost, the SDK sent it again: the part holds exactly this
    /// outcome), a duplicate, or a job not running. A running job that
    /// should have ended (its last recording run died before claiming the
    /// fan-in, or this write's lost answer said it completed the job) is
    /// ended now.
    async fn refused<R, J>(
        &self,
        job_id: &str,
        index: u32,
        outcome: PartOutcome<'_>,
        job: Option<Box<JobRecord>>,
        fan_in: &impl FanInFn<J, R>,
    ) -> Result<PartRecording, Error>
    where
        R: DeserializeOwned,
        J: DeserializeOwned,
    {
        let Some(job) = job else {
            tracing::warn!(job_id, part = index, "no such job (expired or never started): the part is dropped");
            return Ok(PartRecording::JobNotRunning);
        };
        // While the job runs, a part holding exactly this outcome holds
        // this write's own earlier attempt (or an identical redelivery's):
        // done, and its fan-in is due if it completed the job.
        let own = job.status == JobStatus::Running
            && match outcome {
                PartOutcome::Done(result) => job.results.get(&index).is_some_and(|stored| stored == result),
                PartOutcome::Failed(failure) => job.failures.get(&index) == Some(failure),
            };
        if own {
            tracing::info!(
                job_id,
                part = index,
                remaining = job.remaining(),
                "part recorded: it holds this outcome (a write whose answer was lost, or the same outcome redelivered)"
            );
            self.fan_in_if_due(job_id, &job, fan_in).await?;
            return Ok(PartRecording::Recorded);
        }
        if job.status != JobStatus::Running {
            tracing::info!(
                job_id,
                part = index,
                status = job.status.as_str(),
                "the job is not running: the part is not recorded"
            );
            return Ok(PartRecording::JobNotRunning);
        }
        if job.is_recorded(index) {
            tracing::info!(job_id, part = index, "the part was recorded before: a redelivery changes nothing");
        } else {
            tracing::warn!(job_id, part = index, total = job.total, "the job has no such part: dropped");
        }
        self.fan_in_if_due(job_id, &job, fan_in).await?;
        Ok(PartRecording::Duplicate)
    }

    /// Claims and runs the fan-in of `job` (as read) if its condition
    /// holds: failed fast, or every part recorded.
    async fn fan_in_if_due<R, J>(&self, job_id: &str, job: &JobRecord, fan_in: &impl FanInFn<J, R>) -> Result<(), Error>
    where
        R: DeserializeOwned,
        J: DeserializeOwned,
    {
        let now = self.clock.now_ms();
        for reason in [ClaimReason::FailFast, ClaimReason::Completion] {
            if reason.holds(job, now) {
                self.try_fan_in(job_id, reason, fan_in).await?;
                break;
            }
        }
        Ok(())
    }
}
