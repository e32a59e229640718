//! [`MemoryDispatcher`]: a queue in process memory, for local runs and tests.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};

use super::dispatch::{DispatchError, Dispatcher, PartMessage};
use crate::future::BoxFuture;

/// The SQS attribute counting deliveries.
const RECEIVE_COUNT: &str = "ApproximateReceiveCount";

/// A [`Dispatcher`] that keeps the parts in process memory, as the SQS
/// messages Lambda would deliver (body, message attributes, a message id,
/// `ApproximateReceiveCount`). Clones share the queue.
///
/// [`Fanout::in_memory`](super::Fanout::in_memory), and
/// [`Fanout::from_env`](super::Fanout::from_env) in a local run, send parts
/// to one, which [`Fanout::run_local`](super::Fanout::run_local) delivers
/// to the worker. Given to [`Fanout::dispatcher`](super::Fanout::dispatcher)
/// it keeps the parts and delivers none: a test of starting jobs on
/// another store.
///
/// ```
/// use std::sync::Arc;
/// use halo::fanout::{Fanout, MemoryDispatcher, MemoryFanoutStore};
///
/// let fanout = Fanout::new("thumbnails", Arc::new(MemoryFanoutStore::new()))
///     .dispatcher(Arc::new(MemoryDispatcher::new()));
/// assert!(!fanout.is_local());
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryDispatcher {
    queue: Arc<Mutex<VecDeque<SqsMessage>>>,
}

impl MemoryDispatcher {
    /// An empty queue.
    pub fn new() -> MemoryDispatcher {
        MemoryDispatcher::default()
    }

    /// Takes up to `max` waiting messages, counting a delivery of each.
    pub(crate) fn take(&self, max: usize) -> Vec<SqsMessage> {
        let mut queue = self.lock();
        let count = max.min(queue.len());
        let mut messages: Vec<SqsMessage> = queue.drain(..count).collect();
        for message in &mut messages {
            let received = receive_count(message) + 1;
            message.attributes.insert(RECEIVE_COUNT.to_owned(), received.to_string());
        }
        messages
    }

    /// Puts messages back at the end of the queue (a redelivery).
    pub(crate) fn put_back(&self, messages: impl IntoIterator<Item = SqsMessage>) {
        self.lock().extend(messages);
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<SqsMessage>> {
        crate::lock::lock(&self.queue)
    }
}

/// How many times `message` was delivered.
pub(crate) fn receive_count(message: &SqsMessage) -> u32 {
    message.attributes.get(RECEIVE_COUNT).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// An SQS event of `messages`.
pub(crate) fn event(messages: Vec<SqsMessage>) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = messages;
    event
}

fn message(part: &PartMessage) -> SqsMessage {
    let mut message = SqsMessage::default();
    message.message_id = Some(uuid::Uuid::new_v4().to_string());
    message.body = Some(part.body.clone());
    message.event_source = Some("aws:sqs".to_owned());
    message.event_source_arn = Some("arn:aws:sqs:local:000000000000:halo-fanout-local".to_owned());
    message.attributes = HashMap::from([(RECEIVE_COUNT.to_owned(), "0".to_owned())]);
    message.message_attributes = part
        .attributes
        .iter()
        .map(|(name, value)| {
            let mut attribute = SqsMessageAttribute::default();
            attribute.string_value = Some(value.clone());
            attribute.data_type = Some("String".to_owned());
            (name.clone(), attribute)
        })
        .collect();
    message
}

impl Dispatcher for MemoryDispatcher {
    fn send_batch<'a>(&'a self, messages: &'a [PartMessage]) -> BoxFuture<'a, Result<Vec<u32>, DispatchError>> {
        self.lock().extend(messages.iter().map(message));
        Box::pin(std::future::ready(Ok(Vec::new())))
    }
}
