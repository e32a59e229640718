//! A local run of a whole pipeline: the in-memory queue's parts delivered
//! to the worker, redelivered on failure, dead-lettered after a few tries.

use std::collections::BTreeSet;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::fan_in::FanInFn;
use super::jobs::Fanout;
use super::memory_queue::{event, receive_count};
use super::worker::PartFn;
use crate::Error;
use crate::batch::{BatchOptions, RawData, RecordData, Sqs};

/// Deliveries of a part's message before a local run dead-letters it (a
/// queue's `maxReceiveCount`).
pub(crate) const LOCAL_MAX_RECEIVES: u32 = 3;

/// What [`Fanout::run_local`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LocalRun {
    /// Messages delivered to the worker (redeliveries included).
    pub deliveries: usize,
    /// Messages that failed 3 times and went to the
    /// dead-letter handler.
    pub dead_lettered: usize,
}

impl Fanout {
    /// Runs the parts waiting in the local queue ([`Fanout::in_memory`], or
    /// [`Fanout::from_env`] in a local run) as SQS and Lambda would: in
    /// batches of ten through [`Fanout::process`], failed parts delivered
    /// again, and after 3 deliveries handed to
    /// [`Fanout::process_dead_letters`]; until the queue is empty. Without
    /// a local queue it does nothing.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use halo::batch::BatchOptions;
    /// use halo::fanout::{FanIn, Fanout, JobStatus, NewJob, Part};
    ///
    /// async fn double(part: Part<u32>) -> Result<u32, halo::Error> {
    ///     Ok(part.body * 2)
    /// }
    ///
    /// async fn total(fan_in: FanIn<(), u32>) -> Result<(), halo::Error> {
    ///     tracing::info!(total = fan_in.results.values().sum::<u32>(), "fan-in");
    ///     Ok(())
    /// }
    ///
    /// let fanout = Fanout::in_memory("doubles");
    /// fanout.start(NewJob::new("job-1", ()), &[1, 2, 3]).await.unwrap();
    /// let run = fanout.run_local(&BatchOptions::default(), double, total).await.unwrap();
    /// assert_eq!(run.deliveries, 3);
    /// assert_eq!(fanout.status("job-1").await.unwrap().unwrap().status, JobStatus::Completed);
    /// # });
    /// ```
    pub async fn run_local<P, R, J>(
        &self,
        options: &BatchOptions,
        work: impl PartFn<P, R>,
        fan_in: impl FanInFn<J, R>,
    ) -> Result<LocalRun, Error>
    where
        P: RecordData,
        R: Serialize + DeserializeOwned,
        J: DeserializeOwned,
    {
        let mut run = LocalRun::default();
        let Some(queue) = &self.local_queue else { return Ok(run) };
        let mut dead = Vec::new();
        let (work, fan_in) = (&work, &fan_in);
        let work = move |part| work.call(part);
        let fan_in = move |value| fan_in.call(value);
        loop {
            let messages = queue.take(10);
            if messages.is_empty() {
                break;
            }
            run.deliveries += messages.len();
            let batch: Sqs<P> = event(messages.clone()).into();
            let failed: BTreeSet<String> = match self.process(batch, options, work, fan_in).await {
                Ok(response) => response.failed_ids().into_iter().map(str::to_owned).collect(),
                // Every record failed: the whole batch comes back.
                Err(_) => messages.iter().filter_map(|m| m.message_id.clone()).collect(),
            };
            for message in messages {
                if !message.message_id.as_ref().is_some_and(|id| failed.contains(id)) {
                    continue;
                }
                if receive_count(&message) >= LOCAL_MAX_RECEIVES {
                    dead.push(message);
                } else {
                    queue.put_back([message]);
                }
            }
        }
        run.dead_lettered = dead.len();
        for chunk in dead.chunks(10) {
            let batch: Sqs<RawData> = event(chunk.to_vec()).into();
            self.process_dead_letters(batch, fan_in).await?;
        }
        Ok(run)
    }
}
