//! The store and the queue the environment asks for.

use std::sync::{Arc, OnceLock};

use super::error::FanoutError;
use super::memory_queue::MemoryDispatcher;
use super::store::FanoutStore;
use crate::platform::{Fallback, StoreChoice, choose_store};

/// The variable naming the DynamoDB table of fan-out jobs.
pub const TABLE_ENV: &str = "HALO_FANOUT_TABLE";

/// The variable holding the URL of the SQS queue parts are sent to.
pub const QUEUE_ENV: &str = "HALO_FANOUT_QUEUE_URL";

/// The job store the environment asks for, by halo's one store rule
/// ([`crate::platform::choose_store`]):
///
/// - `HALO_FANOUT_TABLE` set: a [`DynamoDbFanoutStore`](super::DynamoDbFanoutStore)
///   on that table (with the container's shared DynamoDB client);
/// - otherwise, inside Lambda: an error naming the variable (an in-memory
///   store there would not be shared by the workers);
/// - otherwise (a local run): a [`MemoryFanoutStore`](super::MemoryFanoutStore).
///
/// It is the container's one store: the first call builds it, every later
/// call returns the same instance.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// // A local run: the in-memory store.
/// let store = halo::fanout::store_from_env().await.unwrap();
/// assert!(store.get("job-1").await.unwrap().is_none());
/// # });
/// ```
pub async fn store_from_env() -> Result<Arc<dyn FanoutStore>, FanoutError> {
    static STORE: tokio::sync::OnceCell<Arc<dyn FanoutStore>> = tokio::sync::OnceCell::const_new();
    STORE.get_or_try_init(build_store).await.cloned()
}

async fn build_store() -> Result<Arc<dyn FanoutStore>, FanoutError> {
    let choice = choose_store("fan-out", TABLE_ENV, Fallback::InitError)
        .map_err(|e| FanoutError::NotConfigured { variable: e.variable, message: e.to_string() })?;
    match choice {
        StoreChoice::DynamoDb { table } => {
            Ok(Arc::new(super::DynamoDbFanoutStore::new(crate::platform::dynamodb_client().await, table)))
        }
        StoreChoice::Memory => Ok(Arc::new(super::MemoryFanoutStore::new())),
    }
}

/// The container's in-memory queue of a local run (shared by every
/// [`Fanout::from_env`](super::Fanout::from_env) of the process).
pub(super) fn local_queue() -> MemoryDispatcher {
    static QUEUE: OnceLock<MemoryDispatcher> = OnceLock::new();
    QUEUE.get_or_init(MemoryDispatcher::new).clone()
}

pub(crate) fn queue_not_configured() -> FanoutError {
    FanoutError::NotConfigured {
        variable: QUEUE_ENV,
        message: format!("no fan-out queue is configured: set {QUEUE_ENV} to the URL of the SQS queue parts go to"),
    }
}
