//! SQS queues on moto, and their messages in the shape Lambda's SQS event
//! source hands a function.

use std::collections::HashMap;

use aws_lambda_events::event::sqs::SqsMessage;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use serde_json::{Value, json};

use crate::moto::{Moto, unique_name};

/// A queue with a dead-letter queue, on moto.
#[derive(Debug, Clone)]
pub struct Queues {
    /// A client of the moto server.
    pub client: aws_sdk_sqs::Client,
    /// The queue's URL.
    pub url: String,
    /// The queue's ARN.
    pub arn: String,
    /// The dead-letter queue's URL.
    pub dlq_url: String,
    /// The dead-letter queue's ARN.
    pub dlq_arn: String,
}

impl Queues {
    /// A new queue named after `prefix` whose messages are visible again
    /// at once after a receive (visibility timeout 0, so a redelivery needs
    /// no waiting) and move to a new dead-letter queue after
    /// `max_receive_count` receives.
    pub async fn create(moto: &Moto, prefix: &str, max_receive_count: u32) -> Queues {
        let client = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
        let name = unique_name(prefix);
        let dlq = client.create_queue().queue_name(format!("{name}-dlq")).send().await.expect("create the DLQ");
        let dlq_url = dlq.queue_url.expect("the DLQ's URL");
        let dlq_arn = queue_arn(&client, &dlq_url).await;
        let redrive = json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count.to_string() });
        let queue = client
            .create_queue()
            .queue_name(&name)
            .attributes(QueueAttributeName::VisibilityTimeout, "0")
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .send()
            .await
            .expect("create the queue");
        let url = queue.queue_url.expect("the queue's URL");
        let arn = queue_arn(&client, &url).await;
        Queues { client, url, arn, dlq_url, dlq_arn }
    }

    /// Receives up to 10 visible messages of the queue in one call, as
    /// Lambda's poller does (with a visibility timeout of 0 a second call
    /// would receive the same messages again).
    pub async fn receive(&self) -> Vec<Message> {
        receive(&self.client, &self.url).await
    }

    /// Receives up to 10 visible messages of the dead-letter queue.
    pub async fn receive_dead(&self) -> Vec<Message> {
        receive(&self.client, &self.dlq_url).await
    }

    /// Deletes `messages` from the queue at `url` (what Lambda does with
    /// the records a batch did not report as failed). A message received
    /// again since (by another consumer: the visibility timeout is 0) has a
    /// new receipt handle, and the old one deletes nothing: it stays.
    pub async fn delete(&self, url: &str, messages: &[Message]) {
        for message in messages {
            let handle = message.receipt_handle.clone().expect("a receipt handle");
            let deleted = self.client.delete_message().queue_url(url).receipt_handle(handle).send().await;
            if let Err(err) = deleted {
                assert_stale(err.into_service_error().meta().code(), "delete");
            }
        }
    }

    /// Sets the visibility timeout of received `messages` of the queue
    /// (0: visible again at once; a long one keeps them in flight). A
    /// message received again since keeps its visibility.
    pub async fn set_visibility(&self, messages: &[Message], seconds: i32) {
        for message in messages {
            let handle = message.receipt_handle.clone().expect("a receipt handle");
            let change = self.client.change_message_visibility().queue_url(&self.url).receipt_handle(handle);
            if let Err(err) = change.visibility_timeout(seconds).send().await {
                assert_stale(err.into_service_error().meta().code(), "change the visibility");
            }
        }
    }
}

/// Only a stale receipt handle (the message was received again) may fail
/// a delete or a visibility change.
fn assert_stale(code: Option<&str>, what: &str) {
    assert_eq!(code, Some("ReceiptHandleIsInvalid"), "{what} failed");
}

/// The ARN of the queue at `url`.
pub async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> String {
    let attributes = client.get_queue_attributes().queue_url(url).attribute_names(QueueAttributeName::QueueArn);
    let attributes = attributes.send().await.expect("the queue's attributes").attributes.expect("attributes");
    attributes[&QueueAttributeName::QueueArn].clone()
}

/// Receives up to 10 visible messages of the queue at `url`, with every
/// attribute, in one call.
pub async fn receive(client: &aws_sdk_sqs::Client, url: &str) -> Vec<Message> {
    let received = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .message_system_attribute_names(MessageSystemAttributeName::All)
        .send()
        .await
        .expect("receive");
    received.messages.unwrap_or_default()
}

/// One received message as a record of Lambda's SQS event.
pub fn lambda_record(message: &Message, queue_arn: &str) -> Value {
    let attributes: HashMap<String, String> =
        message.attributes.clone().unwrap_or_default().into_iter().map(|(k, v)| (k.as_str().to_owned(), v)).collect();
    let message_attributes: HashMap<String, Value> = message
        .message_attributes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, json!({ "stringValue": v.string_value, "dataType": v.data_type })))
        .collect();
    json!({
        "messageId": message.message_id, "receiptHandle": message.receipt_handle, "body": message.body,
        "attributes": attributes, "messageAttributes": message_attributes, "md5OfBody": message.md5_of_body,
        "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "us-east-1"
    })
}

/// Received messages as the SQS event Lambda hands a function.
pub fn lambda_event(messages: &[Message], queue_arn: &str) -> Value {
    json!({ "Records": messages.iter().map(|m| lambda_record(m, queue_arn)).collect::<Vec<_>>() })
}

/// One received message as `aws_lambda_events`' record type.
pub fn sqs_message(message: &Message, queue_arn: &str) -> SqsMessage {
    serde_json::from_value(lambda_record(message, queue_arn)).expect("an SQS record")
}
