//! [`recover`]: continues sagas that made no progress for a while (for a
//! scheduled function), so that no saga stays without an outcome.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::SagaError;
use super::log::SagaLog;
use super::saga::Saga;
use crate::durable::StoreError;
use crate::future::BoxFuture;
use crate::platform::{Clock, SystemClock};

/// A saga definition [`recover`] can continue by id.
pub trait Recoverable: Send + Sync {
    /// The saga's name (matched against the records' `saga`).
    fn saga_name(&self) -> &str;

    /// Continues the saga `saga_id` from the log.
    fn resume_by_id<'a>(&'a self, log: &'a dyn SagaLog, saga_id: &'a str) -> BoxFuture<'a, Result<(), SagaError>>;

    /// Stops the saga `saga_id` and compensates what it did.
    fn abort_by_id<'a>(&'a self, log: &'a dyn SagaLog, saga_id: &'a str) -> BoxFuture<'a, Result<(), SagaError>>;
}

impl<I, O> Recoverable for Saga<I, O>
where
    I: Serialize + Send + Sync + 'static,
    O: DeserializeOwned + Send + 'static,
{
    fn saga_name(&self) -> &str {
        self.name()
    }

    fn resume_by_id<'a>(&'a self, log: &'a dyn SagaLog, saga_id: &'a str) -> BoxFuture<'a, Result<(), SagaError>> {
        Box::pin(async move { self.resume(log, saga_id).await.map(|_| ()) })
    }

    fn abort_by_id<'a>(&'a self, log: &'a dyn SagaLog, saga_id: &'a str) -> BoxFuture<'a, Result<(), SagaError>> {
        Box::pin(async move { self.abort(log, saga_id).await })
    }
}

/// What [`recover`] looks for and does.
#[derive(Clone)]
pub struct RecoverOptions {
    stalled_after: Duration,
    compensate_after: Option<Duration>,
    limit: usize,
    clock: Arc<dyn Clock>,
}

impl Default for RecoverOptions {
    /// Sagas without a write for 5 minutes, at most 100 per call, resumed.
    fn default() -> Self {
        RecoverOptions {
            stalled_after: Duration::from_secs(300),
            compensate_after: None,
            limit: 100,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for RecoverOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoverOptions")
            .field("stalled_after", &self.stalled_after)
            .field("compensate_after", &self.compensate_after)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl RecoverOptions {
    /// A saga is stalled when its last write is older than this.
    #[must_use]
    pub fn stalled_after(mut self, after: Duration) -> RecoverOptions {
        self.stalled_after = after;
        self
    }

    /// Sagas started longer ago than this are compensated instead of
    /// resumed (by default every stalled saga is resumed: forward while
    /// running, its compensations while compensating).
    #[must_use]
    pub fn compensate_after(mut self, after: Duration) -> RecoverOptions {
        self.compensate_after = Some(after);
        self
    }

    /// At most this many sagas per call.
    #[must_use]
    pub fn limit(mut self, limit: usize) -> RecoverOptions {
        self.limit = limit;
        self
    }

    /// The clock deciding what is old (tests move time with it).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> RecoverOptions {
        self.clock = clock;
        self
    }
}

/// What [`recover`] did, by saga id.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct RecoverReport {
    /// Sagas that reached an outcome now (committed, rolled back, …), with
    /// their error for the non-committed ones.
    pub finished: Vec<(String, Result<(), SagaError>)>,
    /// Sagas still without an outcome (in progress elsewhere, suspended
    /// again, log errors): the next call tries again.
    pub pending: Vec<(String, SagaError)>,
    /// Sagas whose name no given definition has.
    pub unknown: Vec<String>,
}

/// Finds the sagas without an outcome and without progress for
/// `stalled_after`, and continues each with its definition: forward, or
/// compensating (already compensating, or older than `compensate_after`).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use halo::saga::{MemorySagaLog, RecoverOptions, Saga, recover};
///
/// let saga = Saga::<u32>::new("empty");
/// let log = MemorySagaLog::new();
/// let report = recover(&log, &[&saga], RecoverOptions::default()).await.unwrap();
/// assert!(report.finished.is_empty());
/// # });
/// ```
pub async fn recover(
    log: &dyn SagaLog,
    sagas: &[&dyn Recoverable],
    options: RecoverOptions,
) -> Result<RecoverReport, StoreError> {
    let now = options.clock.now_ms();
    let before = now.saturating_sub(options.stalled_after.as_millis() as u64);
    let stalled = log.stalled(before, options.limit).await?;
    let mut report = RecoverReport::default();
    for record in stalled {
        let Some(saga) = sagas.iter().find(|s| s.saga_name() == record.saga) else {
            tracing::error!(saga_id = %record.saga_id, saga = %record.saga, "no definition to recover this saga");
            report.unknown.push(record.saga_id);
            continue;
        };
        let too_old = options
            .compensate_after
            .is_some_and(|after| now.saturating_sub(record.created_at_ms) > after.as_millis() as u64);
        tracing::info!(saga_id = %record.saga_id, saga = %record.saga, compensate = too_old, "recovering saga");
        let result = if too_old {
            saga.abort_by_id(log, &record.saga_id).await
        } else {
            saga.resume_by_id(log, &record.saga_id).await
        };
        match result {
            Err(err) if err.is_retryable() => report.pending.push((record.saga_id, err)),
            other => report.finished.push((record.saga_id, other)),
        }
    }
    Ok(report)
}
