#![doc = include_str!("../../docs/batch.md")]

mod data;
mod options;
mod record;
mod response;
mod sqs;
mod stream;

pub use data::{RawData, RecordData};
pub use options::BatchOptions;
pub use response::BatchResponse;
pub use sqs::{Sqs, SqsRecord};
pub use stream::{DynamoDbStream, Kinesis, KinesisRecord};
