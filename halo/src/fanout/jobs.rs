//! [`Fanout`]: one kind of job, with its store, its dispatcher, its clock
//! and its settings.

use std::sync::Arc;
use std::time::Duration;

use super::dispatch::Dispatcher;
use super::env::{QUEUE_ENV, local_queue, store_from_env};
use super::error::FanoutError;
use super::memory::MemoryFanoutStore;
use super::memory_queue::MemoryDispatcher;
use super::store::FanoutStore;
use crate::platform::{Clock, in_lambda, non_empty_var, system_clock};
use crate::retry::Backoff;

/// One kind of fan-out job (e.g. `"renditions"`): where its jobs are
/// stored, where its parts are sent, and how its fan-in is retried.
/// Cheap to clone; build it once per container (in your init).
///
/// Its methods are the whole feature:
/// [`start`](Fanout::start) a job,
/// [`process`](Fanout::process) a batch of parts in the worker,
/// [`process_dead_letters`](Fanout::process_dead_letters) in the
/// dead-letter queue's handler, [`sweep`](Fanout::sweep) on a schedule,
/// [`status`](Fanout::status) for an API.
///
/// ```
/// use std::time::Duration;
/// use halo::fanout::Fanout;
///
/// let fanout = Fanout::in_memory("thumbnails").fan_in_lease(Duration::from_secs(60));
/// assert_eq!(fanout.kind(), "thumbnails");
/// assert!(fanout.is_local());
/// ```
#[derive(Clone)]
pub struct Fanout {
    pub(crate) kind: String,
    pub(crate) store: Arc<dyn FanoutStore>,
    pub(crate) dispatcher: Option<Arc<dyn Dispatcher>>,
    pub(crate) local_queue: Option<MemoryDispatcher>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) fan_in_retry: Backoff,
    pub(crate) fan_in_lease: Duration,
    pub(crate) dispatch_retry: Backoff,
    pub(crate) retention: Duration,
}

impl std::fmt::Debug for Fanout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fanout")
            .field("kind", &self.kind)
            .field("dispatcher", &self.dispatcher.is_some())
            .field("local_queue", &self.local_queue.is_some())
            .field("fan_in_retry", &self.fan_in_retry)
            .field("fan_in_lease", &self.fan_in_lease)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

impl Fanout {
    /// Jobs of `kind` in `store`, with no dispatcher yet (enough for
    /// workers, the dead-letter handler, the sweeper and status reads).
    ///
    /// Defaults: the fan-in is tried 3 times in place (retryable errors,
    /// within the invocation's budget) and its claim lasts 5 minutes (or
    /// the invocation's remaining time, if shorter); ended jobs are kept 7
    /// days.
    pub fn new(kind: impl Into<String>, store: Arc<dyn FanoutStore>) -> Fanout {
        Fanout {
            kind: kind.into(),
            store,
            dispatcher: None,
            local_queue: None,
            clock: system_clock(),
            fan_in_retry: Backoff::new(3),
            fan_in_lease: Duration::from_secs(300),
            dispatch_retry: Backoff::new(4).initial_delay(Duration::from_millis(50)),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// Jobs of `kind` in a new [`MemoryFanoutStore`], parts sent to a new
    /// [`MemoryDispatcher`] (local runs and tests; run the parts with
    /// [`Fanout::run_local`]).
    pub fn in_memory(kind: impl Into<String>) -> Fanout {
        Fanout::new(kind, Arc::new(MemoryFanoutStore::new())).local_queue_to(MemoryDispatcher::new())
    }

    /// Sends parts with `dispatcher`.
    #[must_use]
    pub fn dispatcher(mut self, dispatcher: Arc<dyn Dispatcher>) -> Fanout {
        self.dispatcher = Some(dispatcher);
        self.local_queue = None;
        self
    }

    /// Sends parts to `queue`, in memory; [`Fanout::run_local`] runs them.
    #[must_use]
    pub(crate) fn local_queue_to(mut self, queue: MemoryDispatcher) -> Fanout {
        self.dispatcher = Some(Arc::new(queue.clone()));
        self.local_queue = Some(queue);
        self
    }

    /// Reads the time from `clock` (tests move time with a
    /// [`ManualClock`](crate::platform::ManualClock)).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Fanout {
        self.clock = clock;
        self
    }

    /// How the fan-in is retried in place when it fails with a retryable
    /// error (never past the invocation's budget); after that the sweeper
    /// retries it.
    #[must_use]
    pub fn fan_in_retry(mut self, policy: Backoff) -> Fanout {
        self.fan_in_retry = policy;
        self
    }

    /// How long a claim of the fan-in lasts at most (it also ends with the
    /// invocation's deadline): a run that dies holding it is retried by
    /// the sweeper after that.
    #[must_use]
    pub fn fan_in_lease(mut self, lease: Duration) -> Fanout {
        self.fan_in_lease = lease;
        self
    }

    /// How long an ended job's record is kept (its TTL).
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Fanout {
        self.retention = retention;
        self
    }

    /// Fails unless parts can be sent: call it in the init of a function
    /// that starts jobs, so a missing queue fails the init, naming the
    /// variable (`HALO_FANOUT_QUEUE_URL`).
    ///
    /// ```
    /// let fanout = halo::fanout::Fanout::in_memory("thumbnails").require_dispatcher().unwrap();
    /// # let _ = fanout;
    /// ```
    pub fn require_dispatcher(self) -> Result<Fanout, FanoutError> {
        match self.dispatcher {
            Some(_) => Ok(self),
            None => Err(super::env::queue_not_configured()),
        }
    }

    /// The kind of job.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// Whether parts go to the process's in-memory queue (a local run):
    /// then [`Fanout::run_local`] runs them.
    pub fn is_local(&self) -> bool {
        self.local_queue.is_some()
    }
}

impl Fanout {
    /// Jobs of `kind` where the environment says: the store
    /// `HALO_FANOUT_TABLE` names (memory in a local run, by halo's one
    /// store rule), and parts sent to the SQS queue at
    /// `HALO_FANOUT_QUEUE_URL` (with the container's shared SQS client),
    /// or, in a local run without it, to the process's in-memory queue
    /// ([`Fanout::run_local`]). Inside Lambda without the queue variable
    /// the fanout cannot start jobs (workers, sweepers and dead-letter
    /// handlers do not need it); a function that starts jobs calls
    /// [`Fanout::require_dispatcher`] in its init.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let fanout = halo::fanout::Fanout::from_env("thumbnails").await.unwrap();
    /// assert!(fanout.is_local(), "a local run sends parts to memory");
    /// # });
    /// ```
    pub async fn from_env(kind: impl Into<String>) -> Result<Fanout, FanoutError> {
        let fanout = Fanout::new(kind, store_from_env().await?);
        if let Some(url) = non_empty_var(QUEUE_ENV) {
            let dispatcher: Arc<dyn Dispatcher> =
                Arc::new(super::SqsDispatcher::new(crate::platform::sqs_client().await, url));
            return Ok(fanout.dispatcher(dispatcher));
        }
        if in_lambda() {
            return Ok(fanout);
        }
        tracing::info!("local run without {QUEUE_ENV}: fan-out parts go to an in-memory queue");
        Ok(fanout.local_queue_to(local_queue()))
    }
}
