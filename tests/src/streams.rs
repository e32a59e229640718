//! A DynamoDB table's stream read through the DynamoDB Streams API (which
//! moto serves: `DescribeStream`, `GetShardIterator`, `GetRecords`), its
//! records in the shape Lambda's DynamoDB event source hands a function.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{StreamSpecification, StreamViewType};
use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use serde_json::{Value, json};

use crate::moto::{Moto, string_key_table};

/// Creates the on-demand table `name`, partition key the string attribute
/// `key`, with a stream of new and old images; returns the stream's ARN.
pub async fn create_streamed_table(client: &aws_sdk_dynamodb::Client, name: &str, key: &str) -> String {
    let created = string_key_table(client, name, key)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("create table {name}: {e:?}"));
    created.table_description.and_then(|t| t.latest_stream_arn).expect("the table has a stream")
}

/// A reader of one stream, from its oldest record (`TRIM_HORIZON`), as
/// Lambda's poller reads it.
#[derive(Debug)]
pub struct StreamReader {
    client: aws_sdk_dynamodbstreams::Client,
    arn: String,
    /// The next iterator of each shard seen.
    iterators: HashMap<String, Option<String>>,
}

impl StreamReader {
    /// A reader of the stream `arn` on `moto`.
    pub async fn new(moto: &Moto, arn: &str) -> StreamReader {
        let client = aws_sdk_dynamodbstreams::Client::new(&moto.sdk_config().await);
        StreamReader { client, arn: arn.to_owned(), iterators: HashMap::new() }
    }

    /// The records written since the last read, in the order of each
    /// shard, in the shape of a Lambda DynamoDB event's `Records`.
    pub async fn read(&mut self) -> Vec<Value> {
        let described = self.client.describe_stream().stream_arn(&self.arn).send().await.expect("DescribeStream");
        let shards = described.stream_description.and_then(|d| d.shards).unwrap_or_default();
        let mut records = Vec::new();
        for shard in shards {
            let shard_id = shard.shard_id.expect("a shard id");
            if !self.iterators.contains_key(&shard_id) {
                let iterator = self
                    .client
                    .get_shard_iterator()
                    .stream_arn(&self.arn)
                    .shard_id(&shard_id)
                    .shard_iterator_type(ShardIteratorType::TrimHorizon)
                    .send()
                    .await
                    .expect("GetShardIterator");
                self.iterators.insert(shard_id.clone(), iterator.shard_iterator);
            }
            while let Some(Some(iterator)) = self.iterators.get(&shard_id).cloned() {
                let page = self.client.get_records().shard_iterator(iterator).send().await.expect("GetRecords");
                let got = page.records.unwrap_or_default();
                let done = got.is_empty();
                records.extend(got.iter().map(|record| lambda_record(record, &self.arn)));
                self.iterators.insert(shard_id.clone(), page.next_shard_iterator);
                if done {
                    break;
                }
            }
        }
        records
    }
}

/// A Lambda DynamoDB event holding `records`.
pub fn lambda_event(records: &[Value]) -> Value {
    json!({ "Records": records })
}

/// One record as Lambda's event source writes it: the Streams API's record
/// and the stream's ARN.
fn lambda_record(record: &Record, stream_arn: &str) -> Value {
    let stream = record.dynamodb.as_ref().expect("a stream record");
    let image = |image: &Option<HashMap<String, AttributeValue>>| image.as_ref().map(item);
    let mut change = json!({
        "ApproximateCreationDateTime": stream.approximate_creation_date_time.map(|t| t.as_secs_f64()),
        "Keys": image(&stream.keys),
        "SequenceNumber": stream.sequence_number,
        "SizeBytes": stream.size_bytes,
        "StreamViewType": stream.stream_view_type.as_ref().map(|t| t.as_str()),
    });
    if let Some(new) = image(&stream.new_image) {
        change["NewImage"] = new;
    }
    if let Some(old) = image(&stream.old_image) {
        change["OldImage"] = old;
    }
    json!({
        "eventID": record.event_id,
        "eventName": record.event_name.as_ref().map(|n| n.as_str()),
        "eventVersion": record.event_version,
        "eventSource": record.event_source,
        "awsRegion": record.aws_region,
        "dynamodb": change,
        "eventSourceARN": stream_arn,
    })
}

fn item(attributes: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(attributes.iter().map(|(name, value)| (name.clone(), attribute(value))).collect())
}

/// An attribute in DynamoDB's JSON (`{"S": ...}`, `{"N": ...}`, ...).
fn attribute(value: &AttributeValue) -> Value {
    let base64 = |blob: &aws_smithy_types::Blob| aws_smithy_types::base64::encode(blob.as_ref());
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::B(b) => json!({ "B": base64(b) }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(n) => json!({ "NULL": n }),
        AttributeValue::Ss(ss) => json!({ "SS": ss }),
        AttributeValue::Ns(ns) => json!({ "NS": ns }),
        AttributeValue::Bs(bs) => json!({ "BS": bs.iter().map(base64).collect::<Vec<_>>() }),
        AttributeValue::L(list) => json!({ "L": list.iter().map(attribute).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": item(map) }),
        other => panic!("an attribute type this reader does not know: {other:?}"),
    }
}
