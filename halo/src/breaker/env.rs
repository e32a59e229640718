//! Breakers configured from the environment, and the lazily built
//! breaker behind `#[halo::circuit_breaker]`.

use std::sync::Arc;

use super::circuit::CircuitBreaker;
use super::policy::BreakerPolicy;
use super::store::BreakerStore;
use crate::durable::Fallback;
use crate::durable::feature::{EnvStore, Feature, FromEnv, TooLarge};

/// The environment variable naming the DynamoDB table of shared breaker
/// state.
pub(crate) const TABLE_ENV: &str = "HALO_BREAKER_TABLE";

/// The circuit breaker's store, described once.
pub(crate) static STORE: Feature = Feature {
    name: "circuit breaker",
    store: "circuit breaker store",
    variable: TABLE_ENV,
    fallback: Fallback::PerContainer,
    code: "BreakerStore",
    unavailable: "a dependency is unavailable; retry later",
    too_large: TooLarge {
        unprocessable: false,
        code: "BreakerRecordTooLarge",
        message: "the breaker record is too large",
    },
};

/// The shared store, or none: per-container state.
impl EnvStore for Option<Arc<dyn BreakerStore>> {
    #[cfg(feature = "dynamodb")]
    fn dynamodb(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Some(Arc::new(super::DynamoDbBreakerStore::new(client, table)))
    }

    fn memory() -> Self {
        None
    }
}

static SHARED_STORE: FromEnv<Option<Arc<dyn BreakerStore>>> = FromEnv::new(&STORE);

impl CircuitBreaker {
    /// A breaker named `name` as the environment asks, by halo's one store
    /// rule ([`crate::durable::choose_store`]) with the breaker's documented
    /// opt-out: shared through the DynamoDB table `HALO_BREAKER_TABLE` when it
    /// is set; otherwise with this container's state only. Inside Lambda that
    /// is logged as a warning (every container then trips on its own), not an
    /// init error: a breaker's shared state is an optimisation, never needed
    /// for correctness ([`Fallback::PerContainer`]). Every breaker of the
    /// container shares one store.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use halo::breaker::{BreakerPolicy, CircuitBreaker};
    ///
    /// let breaker = CircuitBreaker::from_env("payments", BreakerPolicy::default()).await;
    /// assert_eq!(breaker.name(), "payments");
    /// # });
    /// ```
    pub async fn from_env(name: &str, policy: BreakerPolicy) -> CircuitBreaker {
        match SHARED_STORE.get().await {
            Ok(Some(store)) => CircuitBreaker::shared(name, policy, store),
            Ok(None) => CircuitBreaker::new(name, policy),
            Err(err) => {
                tracing::warn!(breaker = name, error_cause = %crate::error::Chain(&err), "this breaker's state is per container");
                CircuitBreaker::new(name, policy)
            }
        }
    }
}
