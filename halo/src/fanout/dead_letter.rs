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
pub const DEAD_LETTERED: &str = "DeadLettered";

impl Fanout {
    /// The dead-letter queue's handler: records each part whose message
    /// reached it as failed ([`DEAD_LETTERED`]), once, and ends its job per
    /// the job's policy (`fan_in` runs here when this ends the job). A
    /// message that is not a fan-out part is logged and dropped.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use halo::batch::{RawData, Sqs};
    /// use halo::fanout::{FanIn, Fanout, JobStatus, NewJob, Outcome, Policy};
    ///
    /// async fn report(fan_in: FanIn<(), u32>) -> Result<(), halo::Error> {
    ///     assert_eq!((fan_in.outcome, fan_in.failed.len()), (Outcome::FailedFast, 1));
    ///     Ok(())
    /// }
    ///
    /// let fanout = Fanout::in_memory("sums");
    /// fanout.start(NewJob::new("job-1", ()).policy(Policy::FailFast), &[1, 2]).await.unwrap();
    /// // Part 0's message exhausted its deliveries and reached the dead-letter queue.
    /// let dead: Sqs<RawData> = fanout.local_queue().unwrap().take_batch(1).unwrap();
    /// fanout.process_dead_letters(dead, report).await.unwrap();
    /// let status = fanout.status("job-1").await.unwrap().unwrap();
    /// assert_eq!(status.status, JobStatus::Failed);
    /// assert_eq!(status.failed_parts[0].code, "DeadLettered");
    /// # });
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
