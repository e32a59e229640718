//! Breakers configured from the environment, and the lazily built
//! breaker behind `#[halo::circuit_breaker]`.

use super::circuit::CircuitBreaker;
use super::policy::Policy;
use crate::platform::{Fallback, choose_store};

/// The environment variable naming the DynamoDB table of shared breaker
/// state.
pub const TABLE_ENV: &str = "HALO_BREAKER_TABLE";

/// A breaker named `name` as the environment asks, by halo's one store
/// rule ([`crate::platform::choose_store`]) with the breaker's documented
/// opt-out: shared through the DynamoDB table `HALO_BREAKER_TABLE` when it
/// is set; otherwise with this container's state only. Inside Lambda that
/// is logged as a warning (every container then trips on its own), not an
/// init error: a breaker's shared state is an optimisation, never needed
/// for correctness ([`Fallback::PerContainer`]).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let breaker = halo::breaker::from_env("payments", halo::breaker::Policy::default()).await;
/// assert_eq!(breaker.name(), "payments");
/// # });
/// ```
pub async fn from_env(name: &str, policy: Policy) -> CircuitBreaker {
    match choose_store("circuit breaker", TABLE_ENV, Fallback::PerContainer) {
        #[cfg(feature = "dynamodb")]
        Ok(crate::platform::StoreChoice::DynamoDb { table }) => {
            let client = crate::platform::dynamodb_client().await;
            let store: std::sync::Arc<dyn super::BreakerStore> =
                std::sync::Arc::new(super::DynamoDbBreakerStore::new(client, table));
            CircuitBreaker::shared(name, policy, store)
        }
        Ok(_) => CircuitBreaker::new(name, policy),
        Err(err) => {
            tracing::warn!(breaker = name, error_cause = %err, "this breaker's state is per container");
            CircuitBreaker::new(name, policy)
        }
    }
}
