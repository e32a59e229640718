//! SQS batches: standard queues concurrently, FIFO queues in order.

use std::future::Future;
use std::marker::PhantomData;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::Deserializer;

use super::data::RecordData;
use super::options::BatchOptions;
use super::record::{Producer, run_record, with_retries};
use super::response::{BatchResponse, finish};
use crate::correlation::Incoming;
use crate::event::EventSource;
use crate::event::names;
use crate::{Error, IntoError};

/// An SQS event whose message bodies are JSON of type `T` (or, with
/// `Sqs<RawData>`, any text): the event type of a batch handler. Bodies are decoded per record when it runs, so one
/// malformed body fails only its record.
#[derive(Debug, Clone)]
pub struct Sqs<T> {
    event: SqsEvent,
    body: PhantomData<fn() -> T>,
}

impl<'de, T> Deserialize<'de> for Sqs<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Sqs { event: SqsEvent::deserialize(deserializer)?, body: PhantomData })
    }
}

impl<T> From<SqsEvent> for Sqs<T> {
    fn from(event: SqsEvent) -> Self {
        Sqs { event, body: PhantomData }
    }
}

/// One SQS message, its body decoded.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SqsRecord<T> {
    /// The decoded body.
    pub body: T,
    /// The message id (what a failure reports).
    pub message_id: String,
    /// The message as Lambda sent it (attributes, receipt handle, …).
    pub message: SqsMessage,
}

impl<T> SqsRecord<T> {
    /// How many times SQS has delivered this message
    /// (`ApproximateReceiveCount`; 1 on the first delivery).
    pub fn receive_count(&self) -> u32 {
        self.message.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(1)
    }
}

impl<T: RecordData> Sqs<T> {
    /// The messages of the batch, as sent.
    pub fn messages(&self) -> &[SqsMessage] {
        &self.event.records
    }

    /// Whether the batch comes from a FIFO queue.
    pub fn is_fifo(&self) -> bool {
        self.event.records.iter().any(|m| {
            m.attributes.contains_key("MessageGroupId")
                || m.event_source_arn.as_deref().is_some_and(|arn| arn.ends_with(".fifo"))
        })
    }

    /// Runs `handler` on every record and reports the failed ones.
    ///
    /// Standard queues run up to [`BatchOptions::concurrency`] records at
    /// once; FIFO queues run in order and stop at the first failure, which
    /// is reported with every later record. A record without a message id
    /// cannot be reported: it is logged and, if it fails, fails the batch.
    pub async fn process<F, Fut, E>(self, options: &BatchOptions, handler: F) -> Result<BatchResponse, Error>
    where
        F: Fn(SqsRecord<T>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: IntoError,
    {
        let fifo = self.is_fifo();
        let total = self.event.records.len();
        let run = |message: SqsMessage| {
            let id = message.message_id.clone().unwrap_or_default();
            let incoming = incoming(&message);
            let producer = producer(&message);
            let handler = &handler;
            async move {
                let policy = options.record_retry();
                let work = async {
                    if policy.attempt_limit() <= 1 {
                        attempt(handler, id.clone(), message).await
                    } else {
                        with_retries(policy, || attempt(handler, id.clone(), message.clone())).await
                    }
                };
                let ok = run_record(&id, incoming, producer, work).await;
                (id, ok)
            }
        };
        let mut failed = Vec::new();
        if fifo {
            let mut records = self.event.records.into_iter();
            for message in records.by_ref() {
                let (id, ok) = run(message).await;
                if !ok {
                    failed.push(id);
                    break;
                }
            }
            let skipped: Vec<String> = records.map(|m| m.message_id.unwrap_or_default()).collect();
            if !skipped.is_empty() {
                tracing::warn!(
                    skipped = skipped.len(),
                    "FIFO batch stopped at the first failure; later records are retried"
                );
            }
            failed.extend(skipped);
        } else {
            let mut outcomes = futures_util::stream::iter(self.event.records.into_iter().map(run))
                .buffer_unordered(options.max_concurrency());
            while let Some((id, ok)) = outcomes.next().await {
                if !ok {
                    failed.push(id);
                }
            }
        }
        if failed.iter().any(String::is_empty) {
            return Err(
                Error::new(crate::ErrorKind::Internal, "a failed record has no message id").with_code("BatchFailed")
            );
        }
        finish(failed, total, options)
    }
}

/// One attempt at a record: decode its body, run the handler.
async fn attempt<T, F, Fut, E>(handler: &F, message_id: String, message: SqsMessage) -> Result<(), Error>
where
    T: RecordData,
    F: Fn(SqsRecord<T>) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: IntoError,
{
    let body = T::from_record_data(message.body.as_deref().unwrap_or_default().as_bytes())?;
    handler(SqsRecord { body, message_id, message }).await.map_err(IntoError::into_error)
}

/// The correlation a message carries in its attributes (what
/// [`propagate::message_attributes`](crate::correlation::propagate::message_attributes) sends).
/// The trace context the message's producer sent (read only with tracing
/// on).
fn producer(message: &SqsMessage) -> Producer {
    if !crate::trace::enabled() {
        return Producer::default();
    }
    Producer {
        traceparent: message.message_attributes.get(names::TRACEPARENT).and_then(|a| a.string_value.clone()),
        xray: message.attributes.get("AWSTraceHeader").cloned(),
    }
}

fn incoming(message: &SqsMessage) -> Incoming {
    let attribute = |name: &str| message.message_attributes.get(name).and_then(|a| a.string_value.clone());
    Incoming::new(
        EventSource::Sqs,
        attribute(names::CORRELATION_ID),
        attribute(names::DEBUG).map(|v| v.eq_ignore_ascii_case("true")),
        attribute(names::USER_AGENT),
    )
}
