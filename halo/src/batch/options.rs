//! How a batch is processed.

use crate::retry::Backoff;

/// Options of a batch run.
///
/// ```
/// use halo::batch::BatchOptions;
///
/// let options = BatchOptions::default().concurrency(8).fail_when_all_fail(false);
/// assert_ne!(options, BatchOptions::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchOptions {
    concurrency: usize,
    fail_when_all_fail: bool,
    record_retry: Backoff,
}

impl Default for BatchOptions {
    /// One record at a time, no in-place retry; the invocation fails when
    /// every record fails.
    fn default() -> Self {
        BatchOptions { concurrency: 1, fail_when_all_fail: true, record_retry: Backoff::new(1) }
    }
}

impl BatchOptions {
    /// Runs up to `n` records of a **standard** SQS batch at once (at least
    /// 1). FIFO queues and streams always run one record at a time, in
    /// order.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Whether a batch whose records all failed fails the invocation (the
    /// default), so the event source retries it with its backoff, instead
    /// of reporting every record in `batchItemFailures`.
    #[must_use]
    pub fn fail_when_all_fail(mut self, yes: bool) -> Self {
        self.fail_when_all_fail = yes;
        self
    }

    /// Retries a record whose handler fails with a retryable error
    /// (throttled, upstream failure, unavailable, timeout) in place, with
    /// `policy` ([`crate::retry`], never past the invocation's budget),
    /// before reporting it failed. Other errors fail the record at once.
    /// Default: no in-place retry (the event source redelivers).
    ///
    /// ```
    /// use halo::retry::Backoff;
    /// let options = halo::batch::BatchOptions::default().retry(Backoff::new(3));
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn retry(mut self, policy: Backoff) -> Self {
        self.record_retry = policy;
        self
    }

    /// The in-place retry policy of a record.
    pub(crate) fn record_retry(&self) -> Backoff {
        self.record_retry
    }

    /// The concurrency bound for standard SQS batches.
    pub(crate) fn max_concurrency(&self) -> usize {
        self.concurrency
    }

    pub(crate) fn fails_when_all_fail(&self) -> bool {
        self.fail_when_all_fail
    }
}
