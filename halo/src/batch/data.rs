//! What a batch record's data decodes into: JSON of the handler's type, or
//! the raw bytes.

use serde::de::DeserializeOwned;

use super::record::decode_body;
use crate::Error;

/// The data of a record that is not JSON: its bytes, as the producer put
/// them. `Kinesis<RawData>` and `Sqs<RawData>` hand every record's data
/// (an SQS body as its UTF-8 bytes) over without decoding.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use halo::batch::{BatchOptions, Kinesis, KinesisRecord, RawData};
///
/// let event = r#"{"Records":[{"eventSource":"aws:kinesis","eventID":"e-1","kinesis":{"partitionKey":"p","sequenceNumber":"4","data":"AAEC/w==","kinesisSchemaVersion":"1.0","approximateArrivalTimestamp":1.5}}]}"#;
/// let batch: Kinesis<RawData> = serde_json::from_str(event).unwrap();
/// let response = batch
///     .process(&BatchOptions::default(), |record: KinesisRecord<RawData>| async move {
///         assert_eq!(record.data.0, vec![0, 1, 2, 255]);
///         Ok::<(), halo::Error>(())
///     })
///     .await
///     .unwrap();
/// assert!(response.is_success());
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawData(pub Vec<u8>);

/// What a record's data (Kinesis) or body (SQS) decodes into: any
/// `DeserializeOwned` type (from JSON), or [`RawData`] (the bytes).
pub trait RecordData: Sized {
    /// Decodes a record's data; the error fails that record only
    /// (`InvalidRecord`) and never quotes the data.
    fn from_record_data(data: &[u8]) -> Result<Self, Error>;
}

impl<T: DeserializeOwned> RecordData for T {
    fn from_record_data(data: &[u8]) -> Result<T, Error> {
        let text = std::str::from_utf8(data)
            .map_err(|_| Error::bad_request("the record data is not UTF-8").with_code("InvalidRecord"))?;
        decode_body(text)
    }
}

impl RecordData for RawData {
    fn from_record_data(data: &[u8]) -> Result<RawData, Error> {
        Ok(RawData(data.to_vec()))
    }
}
