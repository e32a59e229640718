//! The saga log the environment asks for.

use std::sync::Arc;

use super::{LogError, SagaLog};
use crate::platform::{Fallback, StoreChoice, choose_store};

/// The environment variable naming the DynamoDB table of the default saga log.
pub const TABLE_ENV: &str = "HALO_SAGA_TABLE";

/// Builds the saga log the environment asks for, by halo's one store rule
/// ([`crate::platform::choose_store`]):
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
pub async fn log_from_env() -> Result<Arc<dyn SagaLog>, LogError> {
    DEFAULT_LOG.get_or_try_init(build_from_env).await.cloned()
}

static DEFAULT_LOG: tokio::sync::OnceCell<Arc<dyn SagaLog>> = tokio::sync::OnceCell::const_new();

/// Sets the log [`log_from_env`] returns, for sagas on a log of your own
/// (another database): call it in your init function. Returns `false` if
/// the log was already set or resolved.
///
/// ```
/// assert!(halo::saga::set_default_log(halo::saga::MemorySagaLog::new()));
/// assert!(!halo::saga::set_default_log(halo::saga::MemorySagaLog::new()), "set once per process");
/// ```
pub fn set_default_log(log: impl SagaLog + 'static) -> bool {
    DEFAULT_LOG.set(Arc::new(log)).is_ok()
}

async fn build_from_env() -> Result<Arc<dyn SagaLog>, LogError> {
    match choose_store("saga", TABLE_ENV, Fallback::InitError).map_err(|e| LogError::Store(e.into()))? {
        #[cfg(feature = "dynamodb")]
        StoreChoice::DynamoDb { table } => {
            Ok(Arc::new(super::DynamoDbSagaLog::new(crate::platform::dynamodb_client().await, table)))
        }
        #[cfg(not(feature = "dynamodb"))]
        StoreChoice::DynamoDb { .. } => {
            Err(LogError::Store(format!("{TABLE_ENV} needs halo's `dynamodb` feature").into()))
        }
        StoreChoice::Memory => Ok(Arc::new(super::MemorySagaLog::new())),
    }
}
