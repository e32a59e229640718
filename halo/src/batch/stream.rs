//! Kinesis and DynamoDB Streams batches: in order, stopping at the first
//! failure, whose sequence number is the checkpoint Lambda restarts from.

use std::future::Future;
use std::marker::PhantomData;

use aws_lambda_events::event::dynamodb::{Event as DynamoDbEvent, EventRecord};
use aws_lambda_events::event::kinesis::{KinesisEvent, KinesisEventRecord};
use serde::Deserialize;
use serde::de::Deserializer;
use serde_json::value::RawValue;

use super::data::RecordData;
use super::options::BatchOptions;
use super::record::{Producer, run_record, with_retries};
use super::response::{BatchResponse, finish};
use crate::correlation::{Incoming, extract};
use crate::event::EventSource;
use crate::{Error, IntoError};

/// A Kinesis event whose record data is JSON of type `T`, or with
/// `Kinesis<RawData>` any bytes (Avro, protobuf, CSV, compressed data).
///
/// A record's correlation id is read from a top-level `x-correlation-id`
/// field of its data (what
/// [`propagate::into_invoke_payload`](crate::correlation::propagate::into_invoke_payload)
/// writes), else generated.
#[derive(Debug, Clone)]
pub struct Kinesis<T> {
    event: KinesisEvent,
    data: PhantomData<fn() -> T>,
}

impl<'de, T> Deserialize<'de> for Kinesis<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Kinesis { event: KinesisEvent::deserialize(deserializer)?, data: PhantomData })
    }
}

/// One Kinesis record, its data decoded.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KinesisRecord<T> {
    /// The decoded data.
    pub data: T,
    /// The record's sequence number (the checkpoint if it fails).
    pub sequence_number: String,
    /// The record as Lambda sent it.
    pub record: KinesisEventRecord,
}

impl<T: RecordData> Kinesis<T> {
    /// Runs `handler` on the records in order; stops at the first failure
    /// and reports its sequence number, so Lambda retries from there.
    pub async fn process<F, Fut, E>(self, options: &BatchOptions, handler: F) -> Result<BatchResponse, Error>
    where
        F: Fn(KinesisRecord<T>) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: IntoError,
    {
        let total = self.event.records.len();
        for record in self.event.records {
            let sequence_number = record.kinesis.sequence_number.clone();
            let incoming = std::str::from_utf8(&record.kinesis.data.0)
                .ok()
                .and_then(|t| RawValue::from_string(t.to_owned()).ok())
                .map(|raw| extract(raw.get()))
                .map(|mut incoming| {
                    incoming.source = EventSource::Kinesis;
                    incoming.fallback_ids.clear();
                    incoming
                })
                .unwrap_or_else(|| Incoming::new(EventSource::Kinesis, None, None, None));
            let attempt = || {
                let (record, sequence_number) = (record.clone(), sequence_number.clone());
                let handler = &handler;
                async move {
                    let data = T::from_record_data(&record.kinesis.data.0)?;
                    handler(KinesisRecord { data, sequence_number, record }).await.map_err(IntoError::into_error)
                }
            };
            let work = with_retries(options.record_retry(), attempt);
            if !run_record(&sequence_number, incoming, Producer::default(), work).await {
                return finish(vec![sequence_number], total, options).map(|r| checkpoint_note(r, total));
            }
        }
        finish(Vec::new(), total, options)
    }
}

/// A DynamoDB Streams event; each record is handed over as Lambda sent it
/// (`keys`, `new_image`, `old_image` as DynamoDB items).
#[derive(Debug, Clone)]
pub struct DynamoDbStream {
    event: DynamoDbEvent,
}

impl<'de> Deserialize<'de> for DynamoDbStream {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(DynamoDbStream { event: DynamoDbEvent::deserialize(deserializer)? })
    }
}

impl From<DynamoDbEvent> for DynamoDbStream {
    fn from(event: DynamoDbEvent) -> Self {
        DynamoDbStream { event }
    }
}

impl DynamoDbStream {
    /// The records, as sent.
    pub fn records(&self) -> &[EventRecord] {
        &self.event.records
    }

    /// Runs `handler` on the records in order; stops at the first failure
    /// and reports its sequence number, so Lambda retries from there.
    pub async fn process<F, Fut, E>(self, options: &BatchOptions, handler: F) -> Result<BatchResponse, Error>
    where
        F: Fn(EventRecord) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: IntoError,
    {
        let total = self.event.records.len();
        for record in self.event.records {
            let sequence_number = record.change.sequence_number.clone().unwrap_or_default();
            let id = if sequence_number.is_empty() { record.event_id.clone() } else { sequence_number.clone() };
            let incoming = Incoming::new(EventSource::DynamoDbStream, None, None, None);
            let work = with_retries(options.record_retry(), || {
                let (record, handler) = (record.clone(), &handler);
                async move { handler(record).await.map_err(IntoError::into_error) }
            });
            if !run_record(&id, incoming, Producer::default(), work).await {
                if sequence_number.is_empty() {
                    return Err(Error::new(crate::ErrorKind::Internal, "a failed record has no sequence number")
                        .with_code("BatchFailed"));
                }
                return finish(vec![sequence_number], total, options).map(|r| checkpoint_note(r, total));
            }
        }
        finish(Vec::new(), total, options)
    }
}

/// Logs that processing stopped at the checkpoint.
fn checkpoint_note(response: BatchResponse, total: usize) -> BatchResponse {
    if let Some(checkpoint) = response.failed_ids().first() {
        tracing::warn!(checkpoint = %checkpoint, records = total, "stream batch stopped at the first failure");
    }
    response
}
