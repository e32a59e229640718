//! The store and the queue the environment asks for.

use std::sync::{Arc, OnceLock};

use super::error::FanoutError;
use super::memory_queue::MemoryDispatcher;
use super::store::FanoutStore;
use crate::durable::Fallback;
use crate::durable::feature::{EnvStore, Feature, FromEnv, TooLarge};

/// The variable naming the DynamoDB table of fan-out jobs.
pub(crate) const TABLE_ENV: &str = "HALO_FANOUT_TABLE";

/// The variable holding the URL of the SQS queue parts are sent to.
pub(crate) const QUEUE_ENV: &str = "HALO_FANOUT_QUEUE_URL";

/// The job store the environment asks for, by halo's one store rule
/// ([`crate::durable::choose_store`]):
///
/// - `HALO_FANOUT_TABLE` set: a [`DynamoDbFanoutStore`](super::DynamoDbFanoutStore)
///   on that table (with the container's shared DynamoDB client);
/// - otherwise, inside Lambda: an error naming the variable (an in-memory
///   store there would not be shared by the workers);
/// - otherwise (a local run): a [`MemoryFanoutStore`](super::MemoryFanoutStore).
///
/// It is the container's one store: the first call builds it, every later
/// call returns the same instance.
pub(crate) async fn store_from_env() -> Result<Arc<dyn FanoutStore>, FanoutError> {
    static STORE_FROM_ENV: FromEnv<Arc<dyn FanoutStore>> = FromEnv::new(&STORE);
    Ok(STORE_FROM_ENV.get().await?)
}

/// The fan-out job store, described once.
pub(crate) static STORE: Feature = Feature {
    name: "fan-out",
    store: "fan-out store",
    variable: TABLE_ENV,
    fallback: Fallback::InitError,
    code: "FanoutStore",
    unavailable: "the fan-out store is unavailable; retry later",
    too_large: TooLarge {
        unprocessable: true,
        code: "PartResultTooLarge",
        message: "the part's result is too large to record",
    },
};

impl EnvStore for Arc<dyn FanoutStore> {
    fn dynamodb(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Arc::new(super::DynamoDbFanoutStore::new(client, table))
    }

    fn memory() -> Self {
        Arc::new(super::MemoryFanoutStore::new())
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
