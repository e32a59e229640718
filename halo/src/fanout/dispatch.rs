//! What a dispatcher author implements: the [`Dispatcher`] trait (sending
//! parts), the [`PartMessage`] a part travels in and the
//! [`DispatchError`] a send fails with. A service picks a dispatcher
//! ([`SqsDispatcher`](super::SqsDispatcher),
//! [`MemoryDispatcher`](super::MemoryDispatcher)) and never needs this
//! module.

use std::fmt;

use crate::{BoxError, BoxFuture};

/// The message attribute holding a part's job id.
pub(crate) const JOB_ID_ATTRIBUTE: &str = "halo-fanout-job-id";

/// The message attribute holding a part's index (0-based, decimal).
pub(crate) const PART_ATTRIBUTE: &str = "halo-fanout-part";

/// The most messages one `SendMessageBatch` takes.
pub(crate) const BATCH_SIZE: usize = 10;

/// The most bytes one message, and one `SendMessageBatch` in all, may
/// carry (bodies and attributes): SQS's 256 KB.
pub(crate) const BATCH_BYTES: usize = 256 * 1024;

/// One part on its way to a worker: the body is the part as JSON; the job
/// id, the part's index and the correlation of the starting invocation
/// (`x-correlation-id`, `debug-log-enabled`, `x-user-agent`) travel as
/// string message attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartMessage {
    /// The job.
    pub job_id: String,
    /// The part's index.
    pub index: u32,
    /// The part, as JSON text.
    pub body: String,
    /// Every message attribute (name, string value), the job id and part
    /// index included.
    pub attributes: Vec<(String, String)>,
}

impl PartMessage {
    /// The message of part `index` of `job_id`, with the current
    /// invocation's correlation attributes
    /// ([`propagate::message_attributes`](crate::correlation::propagate::message_attributes)).
    pub(crate) fn new(job_id: &str, index: u32, body: String) -> PartMessage {
        let mut attributes =
            vec![(JOB_ID_ATTRIBUTE.to_owned(), job_id.to_owned()), (PART_ATTRIBUTE.to_owned(), index.to_string())];
        attributes.extend(
            crate::correlation::propagate::message_attributes()
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value)),
        );
        PartMessage { job_id: job_id.to_owned(), index, body, attributes }
    }

    /// What the message counts against SQS's size limit: its body, and each
    /// attribute's name, data type (`String`) and value.
    pub(crate) fn size(&self) -> usize {
        self.body.len()
            + self.attributes.iter().map(|(name, value)| name.len() + "String".len() + value.len()).sum::<usize>()
    }
}

/// `messages` in the groups one `SendMessageBatch` each can take: at most
/// [`BATCH_SIZE`] messages and [`BATCH_BYTES`] in all, in order.
pub(crate) fn batches(messages: &[PartMessage]) -> Vec<&[PartMessage]> {
    let mut groups = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, message) in messages.iter().enumerate() {
        let size = message.size();
        if i > start && (i - start == BATCH_SIZE || bytes + size > BATCH_BYTES) {
            groups.push(&messages[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += size;
    }
    if start < messages.len() {
        groups.push(&messages[start..]);
    }
    groups
}

/// A failure to send parts (network, throttling, permissions). Its text is
/// for logs only.
#[derive(Debug)]
pub struct DispatchError {
    source: BoxError,
}

impl DispatchError {
    /// A failure caused by `source`.
    pub fn new(source: impl Into<BoxError>) -> DispatchError {
        DispatchError { source: source.into() }
    }
}

impl fmt::Display for DispatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "fan-out dispatch failed: {}", self.source)
    }
}

impl std::error::Error for DispatchError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// `FanoutDispatch` (503, retryable): the parts could not all be sent;
/// starting the job again sends them.
impl crate::IntoError for DispatchError {
    fn into_error(self) -> crate::Error {
        crate::Error::unavailable("the job's parts could not be sent; retry later")
            .with_code("FanoutDispatch")
            .with_source(self)
    }
}

crate::error::from::own_error!(DispatchError);

/// Where parts are sent: [`SqsDispatcher`](super::SqsDispatcher) (an SQS
/// queue, `SendMessageBatch`) or [`MemoryDispatcher`](super::MemoryDispatcher)
/// (local runs and tests).
pub trait Dispatcher: Send + Sync {
    /// Sends up to 10 messages (at most 256 KB in all) in one request; returns the
    /// indexes of the parts that were not accepted (to send again).
    fn send_batch<'a>(&'a self, messages: &'a [PartMessage]) -> BoxFuture<'a, Result<Vec<u32>, DispatchError>>;
}

impl<D: Dispatcher + ?Sized> Dispatcher for std::sync::Arc<D> {
    fn send_batch<'a>(&'a self, messages: &'a [PartMessage]) -> BoxFuture<'a, Result<Vec<u32>, DispatchError>> {
        (**self).send_batch(messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_ten_messages_and_256_kb_at_most() {
        let small: Vec<PartMessage> = (0..25).map(|i| PartMessage::new("job-1", i, "1".into())).collect();
        assert_eq!(batches(&small).iter().map(|b| b.len()).collect::<Vec<_>>(), [10, 10, 5]);
        let large: Vec<PartMessage> = (0..4).map(|i| PartMessage::new("job-1", i, "x".repeat(100 * 1024))).collect();
        assert_eq!(batches(&large).iter().map(|b| b.len()).collect::<Vec<_>>(), [2, 2]);
    }

    #[test]
    fn a_message_carries_its_part_index() {
        let message = PartMessage::new("job-1", 3, r#"{"width":64}"#.into());
        assert!(message.attributes.contains(&(PART_ATTRIBUTE.to_owned(), "3".to_owned())));
    }
}
