//! The saga log the environment asks for.

use std::sync::Arc;

use super::SagaLog;
use crate::durable::feature::{EnvStore, Feature, FromEnv, TooLarge};
use crate::durable::{Fallback, StoreError};

/// The environment variable naming the DynamoDB table of the default saga log.
pub(crate) const TABLE_ENV: &str = "HALO_SAGA_TABLE";

/// Builds the saga log the environment asks for, by halo's one store rule
/// ([`crate::durable::choose_store`]):
///
/// - `HALO_SAGA_TABLE` set: a [`DynamoDbSagaLog`](super::DynamoDbSagaLog)
///   on that table (with the container's shared DynamoDB client);
/// - otherwise, inside Lambda: an error naming the variable, because an
///   in-memory log there would not survive the container and could not
///   resume a crashed saga;
/// - otherwise (a local run): a [`MemorySagaLog`](super::MemorySagaLog).
///
/// A binary with a `#[halo::saga_step]` resolves it at init by itself, so
/// that inside Lambda a missing table fails the container's init with a
/// clear message; a log of your own given to [`set_default_log`] in your
/// init function takes its place.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// // A local run (no table, not in Lambda): the in-memory log.
/// let log = halo::saga::log_from_env().await.unwrap();
/// assert!(log.load("trip-1").await.unwrap().is_none());
/// # });
/// ```
///
/// It is the container's one saga log: the first call builds it, every
/// later call returns the same instance, so calling it in a handler never
/// makes a fresh in-memory log per invocation (which would run a replayed
/// saga's steps again).
pub async fn log_from_env() -> Result<Arc<dyn SagaLog>, StoreError> {
    DEFAULT_LOG.get().await
}

static DEFAULT_LOG: FromEnv<Arc<dyn SagaLog>> = FromEnv::new(&STORE);

/// The saga log, described once.
pub(crate) static STORE: Feature = Feature {
    name: "saga",
    store: "saga log",
    variable: TABLE_ENV,
    fallback: Fallback::InitError,
    code: "SagaLogUnavailable",
    unavailable: "the saga log is unavailable; retry later",
    too_large: TooLarge {
        unprocessable: false,
        code: "SagaRecordTooLarge",
        message: "the saga record is too large to store",
    },
};

/// Sets the log [`log_from_env`] returns, for sagas on a log of your own
/// (another database): call it in your init function. Returns `false` if
/// the log was already set or resolved.
///
/// ```
/// assert!(halo::saga::set_default_log(halo::saga::MemorySagaLog::new()));
/// assert!(!halo::saga::set_default_log(halo::saga::MemorySagaLog::new()), "set once per process");
/// ```
pub fn set_default_log(log: impl SagaLog + 'static) -> bool {
    DEFAULT_LOG.set(Arc::new(log))
}

impl EnvStore for Arc<dyn SagaLog> {
    #[cfg(feature = "dynamodb")]
    fn dynamodb(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Arc::new(super::DynamoDbSagaLog::new(client, table))
    }

    fn memory() -> Self {
        Arc::new(super::MemorySagaLog::new())
    }
}
