//! [`SqsDispatcher`]: parts sent to an SQS queue with `SendMessageBatch`.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{MessageAttributeValue, SendMessageBatchRequestEntry};

use super::dispatch::{DispatchError, Dispatcher, PartMessage};
use crate::future::BoxFuture;

/// Sends parts to an SQS queue, up to ten per `SendMessageBatch`, each
/// with its job id, part index and correlation as string message
/// attributes. The queue's consumer is the worker
/// ([`Fanout::process`](super::Fanout::process)); give the queue a
/// dead-letter queue (`maxReceiveCount`) whose consumer is the
/// dead-letter handler ([`Fanout::process_dead_letters`](super::Fanout::process_dead_letters)).
///
/// The function needs `sqs:SendMessage` on the queue.
///
/// ```no_run
/// # async fn init() {
/// let client = halo::platform::sqs_client().await;
/// let dispatcher = halo::fanout::SqsDispatcher::new(client, "https://sqs.eu-west-1.amazonaws.com/123456789012/parts");
/// # let _ = dispatcher;
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqsDispatcher {
    client: Client,
    queue_url: String,
}

impl SqsDispatcher {
    /// A dispatcher to the queue at `queue_url`.
    pub fn new(client: Client, queue_url: impl Into<String>) -> SqsDispatcher {
        SqsDispatcher { client, queue_url: queue_url.into() }
    }

    async fn send(&self, messages: &[PartMessage]) -> Result<Vec<u32>, DispatchError> {
        let mut request = self.client.send_message_batch().queue_url(&self.queue_url);
        for message in messages {
            let mut entry =
                SendMessageBatchRequestEntry::builder().id(message.index.to_string()).message_body(&message.body);
            for (name, value) in &message.attributes {
                let value = MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value(value)
                    .build()
                    .map_err(DispatchError::new)?;
                entry = entry.message_attributes(name, value);
            }
            request = request.entries(entry.build().map_err(DispatchError::new)?);
        }
        let output = request.send().await.map_err(|e| DispatchError::new(e.into_service_error()))?;
        let mut failed = Vec::new();
        for entry in output.failed() {
            tracing::warn!(part = %entry.id(), code = %entry.code(), sender_fault = entry.sender_fault(), "SQS refused a part");
            failed.push(entry.id().parse().map_err(|_| DispatchError::new("SQS refused an entry with an unknown id"))?);
        }
        Ok(failed)
    }
}

impl Dispatcher for SqsDispatcher {
    fn send_batch<'a>(&'a self, messages: &'a [PartMessage]) -> BoxFuture<'a, Result<Vec<u32>, DispatchError>> {
        Box::pin(self.send(messages))
    }
}
