//! The partial-failure response Lambda reads.

use serde::{Deserialize, Serialize};

use super::options::BatchOptions;
use crate::Error;

/// `{"batchItemFailures": [{"itemIdentifier": "..."}]}`: the records Lambda
/// must deliver again (SQS message ids, or the stream sequence number to
/// restart from). An empty list means the whole batch succeeded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BatchResponse {
    /// The failed records.
    batch_item_failures: Vec<ItemFailure>,
}

/// One failed record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ItemFailure {
    /// The SQS message id, or the Kinesis / DynamoDB Streams sequence number.
    item_identifier: String,
}

impl BatchResponse {
    /// A response reporting `ids` as failed.
    pub fn from_failed_ids<I: IntoIterator<Item = String>>(ids: I) -> BatchResponse {
        BatchResponse {
            batch_item_failures: ids.into_iter().map(|item_identifier| ItemFailure { item_identifier }).collect(),
        }
    }

    /// The identifiers of the failed records.
    pub fn failed_ids(&self) -> Vec<&str> {
        self.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect()
    }

    /// Whether every record succeeded.
    pub fn is_success(&self) -> bool {
        self.batch_item_failures.is_empty()
    }
}

/// The response for `failed` of `total` records, or the invocation's error
/// when every record failed and `options` says so.
pub(crate) fn finish(failed: Vec<String>, total: usize, options: &BatchOptions) -> Result<BatchResponse, Error> {
    tracing::info!(records = total, failed = failed.len(), "batch processed");
    if total > 0 && failed.len() == total && options.fails_when_all_fail() {
        return Err(Error::new(crate::ErrorKind::Internal, format!("all {total} records of the batch failed"))
            .with_code("BatchFailed"));
    }
    Ok(BatchResponse::from_failed_ids(failed))
}
