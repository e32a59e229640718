//! [`MemoryDispatcher`]: a queue in process memory, for local runs and tests.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};

use super::dispatch::{DispatchError, Dispatcher, PartMessage};
use crate::BoxFuture;
use crate::batch::Sqs;

/// The SQS attribute counting deliveries.
const RECEIVE_COUNT: &str = "ApproximateReceiveCount";

/// A [`Dispatcher`] that keeps the parts in process memory, as the SQS
/// messages Lambda would deliver (body, message attributes, a message id,
/// `ApproximateReceiveCount`). Clones share the queue.
///
/// [`Fanout::run_local`](super::Fanout::run_local) delivers its messages
/// to the worker; tests take batches with [`MemoryDispatcher::take_batch`]
/// and may deliver them as often as they like.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use halo::fanout::{Dispatcher, MemoryDispatcher, PartMessage};
///
/// let queue = MemoryDispatcher::new();
/// queue.send_batch(&[PartMessage::new("job-1", 0, "7".into())]).await.unwrap();
/// let batch = queue.take_batch::<u32>(10).expect("one message");
/// assert_eq!(batch.messages()[0].body.as_deref(), Some("7"));
/// assert!(queue.is_empty());
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryDispatcher {
    queue: Arc<Mutex<VecDeque<SqsMessage>>>,
    sent: Arc<AtomicUsize>,
}

impl MemoryDispatcher {
    /// An empty queue.
    pub fn new() -> MemoryDispatcher {
        MemoryDispatcher::default()
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no message waits.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    /// Messages sent since the queue was made.
    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }

    /// Takes up to `max` waiting messages, counting a delivery of each.
    pub fn take(&self, max: usize) -> Vec<SqsMessage> {
        let mut queue = self.lock();
        let count = max.min(queue.len());
        let mut messages: Vec<SqsMessage> = queue.drain(..count).collect();
        for message in &mut messages {
            let received = receive_count(message) + 1;
            message.attributes.insert(RECEIVE_COUNT.to_owned(), received.to_string());
        }
        messages
    }

    /// Takes up to `max` waiting messages as the SQS event Lambda would
    /// hand a worker; `None` when none waits.
    pub fn take_batch<T>(&self, max: usize) -> Option<Sqs<T>> {
        let messages = self.take(max);
        (!messages.is_empty()).then(|| event(messages).into())
    }

    /// Puts messages back at the end of the queue (a redelivery).
    pub fn put_back(&self, messages: impl IntoIterator<Item = SqsMessage>) {
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
        self.sent.fetch_add(messages.len(), Ordering::SeqCst);
        Box::pin(std::future::ready(Ok(Vec::new())))
    }
}
