//! Starting a job: create it once, send every part.

use std::time::Duration;

use futures_util::StreamExt;
use serde::Serialize;

use super::dispatch::{BATCH_BYTES, DispatchError, Dispatcher, PartMessage, batches};
use super::error::FanoutError;
use super::job::{JobPolicy, JobRecord};
use super::jobs::Fanout;
use super::store::JobCreated;
use crate::Ctx;

/// The most parts a job may have.
pub(crate) const MAX_PARTS: usize = 10_000;

/// The longest job id (ASCII letters, digits and `-_.:#/@+=`).
pub(crate) const MAX_JOB_ID_LEN: usize = 200;

/// The largest context: it is stored in the job's item, with the results.
const MAX_CONTEXT_BYTES: usize = 64 * 1024;

/// How many `SendMessageBatch` requests are in flight at once.
const DISPATCH_CONCURRENCY: usize = 4;

/// A job to start: its id, the context its fan-in receives, its deadline
/// and its policy.
///
/// ```
/// use std::time::Duration;
/// use halo::fanout::{NewJob, JobPolicy};
///
/// let job = NewJob::new("asset-42", serde_json::json!({ "bucket": "uploads" }))
///     .deadline(Duration::from_secs(600))
///     .policy(JobPolicy::FailFast);
/// assert_eq!(job.id(), "asset-42");
/// ```
#[derive(Debug, Clone)]
pub struct NewJob<J> {
    id: String,
    context: J,
    deadline: Duration,
    policy: JobPolicy,
}

impl<J: Serialize> NewJob<J> {
    /// A job `id` whose fan-in receives `context` (ids, names: it is
    /// stored with the job, at most 64 KB of JSON). Defaults: a deadline
    /// of one hour from the start, [`JobPolicy::Collect`].
    ///
    /// The id is the job's identity: starting the same id again creates
    /// and sends nothing twice, so derive it from what the job is for (an
    /// upload's object key, an order id).
    pub fn new(id: impl Into<String>, context: J) -> NewJob<J> {
        NewJob { id: id.into(), context, deadline: Duration::from_secs(3600), policy: JobPolicy::Collect }
    }

    /// The sweeper ends the job this long after its start if parts are
    /// still missing.
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> NewJob<J> {
        self.deadline = deadline;
        self
    }

    /// What a failed part does.
    #[must_use]
    pub fn policy(mut self, policy: JobPolicy) -> NewJob<J> {
        self.policy = policy;
        self
    }

    /// The job id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// What [`Fanout::start`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Started {
    /// The job was created and every part sent.
    Dispatched,
    /// The job existed but a start before had not sent all its parts
    /// (it was interrupted): they were sent again (workers record a part
    /// once, however often it arrives).
    Redispatched,
    /// The job existed and its parts were sent: nothing was done.
    AlreadyStarted,
}

fn invalid(why: impl Into<String>) -> FanoutError {
    FanoutError::InvalidJob(why.into())
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_JOB_ID_LEN
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:#/@+=".contains(&b))
}

impl Fanout {
    /// Starts `job` with `parts`: records the job (one conditional write;
    /// an existing job with this id is not created again) and sends every
    /// part as a message (`SendMessageBatch`, ten at a time, 256 KB at
    /// most), with the job
    /// id, the part's index and the current invocation's correlation id
    /// and sampling decision as message attributes.
    ///
    /// Starting the same job id again sends nothing, unless the start
    /// before was interrupted before all its parts were sent: then it
    /// sends them again ([`Started::Redispatched`]). The same id with other
    /// parts or another context is a [`FanoutError::Conflict`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use halo::fanout::{Fanout, NewJob, Started};
    ///
    /// let fanout = Fanout::in_memory("thumbnails");
    /// let sizes = [64, 256, 1024];
    /// let started = fanout.start(NewJob::new("photo-1", "photo-1.jpg"), &sizes).await.unwrap();
    /// assert_eq!(started, Started::Dispatched);
    /// // The same id again: nothing is created or sent twice.
    /// let again = fanout.start(NewJob::new("photo-1", "photo-1.jpg"), &sizes).await.unwrap();
    /// assert_eq!(again, Started::AlreadyStarted);
    /// # });
    /// ```
    pub async fn start<J: Serialize, P: Serialize>(&self, job: NewJob<J>, parts: &[P]) -> Result<Started, FanoutError> {
        let Some(dispatcher) = self.dispatcher.as_deref() else { return Err(super::env::queue_not_configured()) };
        if !valid_id(&job.id) {
            return Err(invalid(format!("a job id has 1 to {MAX_JOB_ID_LEN} ASCII letters, digits or `-_.:#/@+=`")));
        }
        if parts.is_empty() || parts.len() > MAX_PARTS {
            return Err(invalid(format!("a job has 1 to {MAX_PARTS} parts")));
        }
        let context = serde_json::to_string(&job.context).map_err(|_| invalid("the job's context is not JSON"))?;
        if context.len() > MAX_CONTEXT_BYTES {
            return Err(invalid("the job's context is over 64 KB: keep ids in it, not documents"));
        }
        let mut messages = Vec::with_capacity(parts.len());
        for (index, part) in parts.iter().enumerate() {
            let body = serde_json::to_string(part).map_err(|_| invalid(format!("part {index} is not JSON")))?;
            let message = PartMessage::new(&job.id, index as u32, body);
            if message.size() > BATCH_BYTES {
                return Err(invalid(format!(
                    "part {index} is over SQS's 256 KB message limit: send a pointer (an object key) instead"
                )));
            }
            messages.push(message);
        }
        let now = self.clock.now_ms();
        let mut record =
            JobRecord::new(&job.id, &self.kind, parts.len() as u32, now + job.deadline.as_millis() as u64, now);
        record.policy = job.policy;
        record.context = context;
        record.correlation_id = Ctx::with_current(|ctx| ctx.and_then(|c| c.correlation_id().map(str::to_owned)));
        let started = match self.store.create(&record).await? {
            JobCreated::New => Started::Dispatched,
            JobCreated::Existing(existing) => {
                if existing.kind != record.kind || existing.total != record.total || existing.context != record.context
                {
                    return Err(FanoutError::Conflict { job_id: job.id });
                }
                if existing.dispatched || existing.status != super::JobStatus::Running {
                    tracing::info!(job_id = %job.id, "the job was started before: nothing to send");
                    return Ok(Started::AlreadyStarted);
                }
                tracing::warn!(job_id = %job.id, "the job's start was interrupted before its parts were all sent: sending them again");
                Started::Redispatched
            }
        };
        // The futures are made before the stream: a closure held across
        // the awaits would make the caller's future not `Send`.
        let sends: Vec<_> = batches(&messages).into_iter().map(|batch| self.send(dispatcher, batch)).collect();
        let mut sends = futures_util::stream::iter(sends).buffer_unordered(DISPATCH_CONCURRENCY);
        while let Some(sent) = sends.next().await {
            sent?;
        }
        self.store.mark_dispatched(&job.id).await?;
        tracing::info!(job_id = %job.id, parts = parts.len(), policy = job.policy.as_str(), "fan-out job started");
        Ok(started)
    }

    /// Sends one chunk, again (with the dispatch backoff) for the parts the
    /// queue did not accept.
    async fn send(&self, dispatcher: &dyn Dispatcher, chunk: &[PartMessage]) -> Result<(), DispatchError> {
        let mut pending = chunk.to_vec();
        let mut attempt = 1;
        loop {
            let error = match dispatcher.send_batch(&pending).await {
                Ok(refused) if refused.is_empty() => return Ok(()),
                Ok(refused) => {
                    pending.retain(|m| refused.contains(&m.index));
                    DispatchError::new(format!("the queue refused {} parts", pending.len()))
                }
                Err(err) => err,
            };
            match self.dispatch_retry.next_wait(attempt) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(error),
            }
            attempt += 1;
        }
    }
}
