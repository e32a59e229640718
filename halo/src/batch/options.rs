//! How a batch is processed.

/// Options of a batch run.
///
/// ```
/// let options = halo::batch::BatchOptions::default().concurrency(8).fail_when_all_fail(false);
/// assert_eq!(options.max_concurrency(), 8);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    concurrency: usize,
    fail_when_all_fail: bool,
}

impl Default for BatchOptions {
    /// One record at a time; the invocation fails when every record fails.
    fn default() -> Self {
        BatchOptions { concurrency: 1, fail_when_all_fail: true }
    }
}

impl BatchOptions {
    /// Runs up to `n` records of a **standard** SQS batch at once (at least
    /// 1). FIFO queues and streams always run one record at a time, in
    /// order.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// Whether a batch whose records all failed fails the invocation (the
    /// default), so the event source retries it with its backoff, instead
    /// of reporting every record in `batchItemFailures`.
    pub fn fail_when_all_fail(mut self, yes: bool) -> Self {
        self.fail_when_all_fail = yes;
        self
    }

    /// The concurrency bound for standard SQS batches.
    pub fn max_concurrency(&self) -> usize {
        self.concurrency
    }

    pub(crate) fn fails_when_all_fail(&self) -> bool {
        self.fail_when_all_fail
    }
}
