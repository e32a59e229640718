//! The dead-letter handler: a part whose message exhausted its deliveries
//! is recorded as failed.

use serde::de::DeserializeOwned;

use super::fan_in::FanInFn;
use super::job::PartFailure;
use super::jobs::Fanout;
use super::worker::part_of;
use crate::Error;
use crate::batch::{BatchOptions, BatchResponse, RawData, Sqs};

/// The code of a part whose message reached the dead-letter queue.
pub(crate) const DEAD_LETTERED: &str = "DeadLettered";

impl Fanout {
    /// The dead-letter queue's handler: records each part whose message
    /// reached it as failed (code `DeadLettered`), once, and ends its job per
    /// the job's policy (`fan_in` runs here when this ends the job). A
    /// message that is not a fan-out part is logged and dropped.
    ///
    /// ```
    /// use halo::batch::{BatchResponse, RawData, Sqs};
    /// use halo::fanout::{FanIn, Fanout};
    ///
    /// async fn report(fan_in: FanIn<(), u32>) -> Result<(), halo::Error> {
    ///     println!("{} ended with {} failed parts", fan_in.job_id, fan_in.failed.len());
    ///     Ok(())
    /// }
    ///
    /// async fn dead_letters(fanout: &Fanout, batch: Sqs<RawData>) -> Result<BatchResponse, halo::Error> {
    ///     fanout.process_dead_letters(batch, report).await
    /// }
    /// ```
    pub async fn process_dead_letters<R, J>(
        &self,
        batch: Sqs<RawData>,
        fan_in: impl FanInFn<J, R>,
    ) -> Result<BatchResponse, Error>
    where
        R: DeserializeOwned,
        J: DeserializeOwned,
    {
        let fan_in = &fan_in;
        batch
            .process(&BatchOptions::default(), |record| async move {
                let Some((job_id, index)) = part_of(&record.message) else {
                    tracing::error!("a message without fan-out attributes reached the dead-letter queue: dropped");
                    return Ok::<(), Error>(());
                };
                let failure = PartFailure::new(DEAD_LETTERED, "the part's message reached the dead-letter queue");
                self.record_failure(&job_id, index, &failure, fan_in).await.map(drop)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use crate::batch::{RawData, Sqs};
    use crate::fanout::{FanIn, Fanout, JobOutcome, JobPolicy, JobStatus, NewJob};

    async fn report(fan_in: FanIn<(), u32>) -> Result<(), crate::Error> {
        assert_eq!((fan_in.outcome, fan_in.failed.len()), (JobOutcome::FailedFast, 1));
        Ok(())
    }

    #[tokio::test]
    async fn a_dead_lettered_part_fails_a_fail_fast_job() {
        let fanout = Fanout::in_memory("sums");
        fanout.start(NewJob::new("job-1", ()).policy(JobPolicy::FailFast), &[1, 2]).await.unwrap();
        // Part 0's message exhausted its deliveries and reached the dead-letter queue.
        let queue = fanout.local_queue.as_ref().expect("an in-memory queue");
        let dead: Sqs<RawData> = crate::fanout::memory_queue::event(queue.take(1)).into();
        fanout.process_dead_letters(dead, report).await.unwrap();
        let status = fanout.status("job-1").await.unwrap().unwrap();
        assert_eq!(status.status, JobStatus::Failed);
        assert_eq!(status.failed_parts[0].code, super::DEAD_LETTERED);
    }
}
