//! The saga log the environment asks for.

use std::sync::Arc;

use super::{LogError, SagaLog};

/// The environment variable naming the DynamoDB table of the default saga log.
pub const TABLE_ENV: &str = "HALO_SAGA_TABLE";

/// Builds the saga log the environment asks for:
///
/// - `HALO_SAGA_TABLE` set: a [`DynamoDbSagaLog`](super::DynamoDbSagaLog)
///   on that table (SDK configuration from [`crate::aws::sdk_config`]);
/// - otherwise, inside Lambda (`AWS_LAMBDA_RUNTIME_API` set): an error,
///   because an in-memory log there would not survive the container and
///   could not resume a crashed saga;
/// - otherwise (a local run): a [`MemorySagaLog`](super::MemorySagaLog).
///
/// Call it once, in your init function.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// // A local run (no table, not in Lambda): the in-memory log.
/// let log = halo::saga::log_from_env().await.unwrap();
/// assert!(log.load("trip-1").await.unwrap().is_none());
/// # });
/// ```
pub async fn log_from_env() -> Result<Arc<dyn SagaLog>, LogError> {
    let table = std::env::var(TABLE_ENV).ok().filter(|t| !t.trim().is_empty());
    match table {
        Some(table) => dynamodb_log(table).await,
        None if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() => Err(LogError::Store(
            format!(
                "no saga table is configured: set {TABLE_ENV} to the DynamoDB table name \
                 (halo never falls back to an in-memory saga log inside Lambda)"
            )
            .into(),
        )),
        None => {
            tracing::info!("saga: local run without {TABLE_ENV}, using the in-memory log");
            Ok(Arc::new(super::MemorySagaLog::new()))
        }
    }
}

#[cfg(feature = "dynamodb")]
async fn dynamodb_log(table: String) -> Result<Arc<dyn SagaLog>, LogError> {
    let client = aws_sdk_dynamodb::Client::new(&crate::aws::sdk_config().await);
    Ok(Arc::new(super::DynamoDbSagaLog::new(client, table)))
}

#[cfg(not(feature = "dynamodb"))]
async fn dynamodb_log(_table: String) -> Result<Arc<dyn SagaLog>, LogError> {
    Err(LogError::Store(format!("{TABLE_ENV} is set but halo was built without its `dynamodb` feature").into()))
}
