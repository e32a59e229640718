//! What a saga log implements: the [`SagaLog`] trait and the record it
//! stores. Service authors pick a log ([`MemorySagaLog`](super::MemorySagaLog),
//! [`log_from_env`](super::log_from_env)) and pass it to
//! [`Saga::run`](super::Saga::run); they read records here only to inspect
//! a saga (operators, tests).
//!
//! A saga's whole state is one record (one DynamoDB item): its input, each
//! step's state and output, the compensation plan and its progress, the
//! outcome, and the lease. Every transition rewrites the record with a
//! write conditional on the version read, so a run that lost its lease can
//! never overwrite a newer state.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::error::StepError;
use crate::durable::{StoreError, forward_store};
use crate::future::BoxFuture;

/// Where a saga is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum SagaStatus {
    /// Steps are running (or the saga is suspended between steps).
    Running,
    /// A step failed; compensations are running (or suspended).
    Compensating,
    /// Every step completed: final.
    Committed,
    /// A step failed and every compensation succeeded: final.
    RolledBack,
    /// A step failed and a compensation failed: final, needs an operator.
    CompensationFailed,
    /// A step failed with an error no ASL `Catch` handles: final.
    Uncompensated,
}

impl SagaStatus {
    /// Whether the saga has its outcome.
    pub fn is_final(self) -> bool {
        !matches!(self, SagaStatus::Running | SagaStatus::Compensating)
    }

    #[cfg(any(test, feature = "dynamodb"))]
    /// The name stored in the log (`RUNNING`, `COMMITTED`, …).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            SagaStatus::Running => "RUNNING",
            SagaStatus::Compensating => "COMPENSATING",
            SagaStatus::Committed => "COMMITTED",
            SagaStatus::RolledBack => "ROLLED_BACK",
            SagaStatus::CompensationFailed => "COMPENSATION_FAILED",
            SagaStatus::Uncompensated => "UNCOMPENSATED",
        }
    }
}

/// Where a step or a compensation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum ActionState {
    /// Not started.
    Pending,
    /// Started and not finished: it may have run partly (a crash, a
    /// timeout); it is run again on resume.
    Started,
    /// Finished successfully.
    Done,
    /// Failed after its retries.
    Failed,
}

/// A step as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StepRecord {
    /// The step's name.
    pub name: String,
    /// Where it is.
    pub state: ActionState,
    /// Its output, once done (`Some(Value::Null)` for a step that returns
    /// `()`, which a stored record keeps apart from no output).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub output: Option<Value>,
    /// Its error, once failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
}

/// A compensation of the plan, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CompensationRecord {
    /// The compensation's name: the step it undoes, or the ASL state.
    pub name: String,
    /// The index of the step it undoes (typed sagas); `None` for an ASL
    /// compensation chain state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// Where it is.
    pub state: ActionState,
    /// Its error, once failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<StepError>,
}

/// Who may run the saga, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Lease {
    /// The run holding it (the Lambda request id, or a random id).
    pub owner: String,
    /// When it lapses (ms since the Unix epoch): the owner's Lambda deadline.
    pub expires_at_ms: u64,
}

/// The whole state of one saga, as stored in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SagaRecord {
    /// The saga id (the key).
    pub saga_id: String,
    /// The saga's name.
    pub saga: String,
    /// Where it is.
    pub status: SagaStatus,
    /// Its input.
    pub input: Value,
    /// Every step, in order.
    pub steps: Vec<StepRecord>,
    /// The compensation plan, once a step failed, in the order it runs.
    #[serde(default)]
    pub compensations: Vec<CompensationRecord>,
    /// The state document threaded through an ASL compensation chain.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub compensation_state: Option<Value>,
    /// The output, once committed.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub output: Option<Value>,
    /// The step that failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<StepError>,
    /// The lease, while a run holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// Incremented by every write; writes are conditional on it.
    pub version: u64,
    /// Creation time (ms since the Unix epoch).
    pub created_at_ms: u64,
    /// Time of the last write (ms since the Unix epoch).
    pub updated_at_ms: u64,
    /// The last transition written, e.g. `step_done`.
    pub last_event: String,
    /// The correlation id of the invocation that started the saga.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

/// Reads a JSON value that is present as `Some`, `null` included: `None` is
/// written as no field at all, so `Some(Value::Null)` (a step returning
/// `()`) survives a round trip through the record's JSON.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A durable store of saga records.
///
/// [`write`](SagaLog::write) must be atomic and conditional: a record with
/// `version == 1` is created only if no record with its id exists, any
/// other is written only if the stored version is `version - 1`; otherwise
/// it fails with a conflict ([`StoreError::conflict`]) and changes nothing. A write that
/// finds exactly its own record stored succeeds: it is the writer's earlier
/// attempt, applied though its answer was lost (a dropped connection, a 500
/// after the commit) before the client sent it again.
pub trait SagaLog: Send + Sync {
    /// The record of `saga_id`, read consistently.
    fn load<'a>(&'a self, saga_id: &'a str) -> BoxFuture<'a, Result<Option<SagaRecord>, StoreError>>;

    /// Writes `record` if the stored version is `record.version - 1` (or
    /// none is stored and `record.version == 1`).
    fn write<'a>(&'a self, record: &'a SagaRecord) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Sagas without an outcome whose last write is older than
    /// `updated_before_ms`, at most `limit`, oldest first.
    fn stalled<'a>(
        &'a self,
        updated_before_ms: u64,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<SagaRecord>, StoreError>>;
}

forward_store!(SagaLog {
    fn load<'a>(&'a self, saga_id: &'a str) -> BoxFuture<'a, Result<Option<SagaRecord>, StoreError>>;
    fn write<'a>(&'a self, record: &'a SagaRecord) -> BoxFuture<'a, Result<(), StoreError>>;
    fn stalled<'a>(&'a self, updated_before_ms: u64, limit: usize) -> BoxFuture<'a, Result<Vec<SagaRecord>, StoreError>>;
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_null_output_round_trips_apart_from_no_output() {
        let step = |output| StepRecord { name: "s".into(), state: ActionState::Done, output, error: None };
        for record in [step(None), step(Some(Value::Null)), step(Some(serde_json::json!({ "id": 1 })))] {
            let json = serde_json::to_string(&record).unwrap();
            assert_eq!(serde_json::from_str::<StepRecord>(&json).unwrap(), record, "{json}");
        }
    }
}
