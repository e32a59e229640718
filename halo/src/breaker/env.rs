//! Breakers configured from the environment, and the lazily built
//! breaker behind `#[halo::circuit_breaker]`.

use tokio::sync::OnceCell;

use super::circuit::CircuitBreaker;
use super::policy::Policy;

/// The environment variable naming the DynamoDB table of shared breaker
/// state.
pub const TABLE_ENV: &str = "HALO_BREAKER_TABLE";

/// A breaker named `name` as the environment asks: shared through the
/// DynamoDB table `HALO_BREAKER_TABLE` when it is set, otherwise with
/// this container's state only (inside Lambda with a warning: every
/// container then trips on its own).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let breaker = halo::breaker::from_env("payments", halo::breaker::Policy::default()).await;
/// assert_eq!(breaker.name(), "payments");
/// # });
/// ```
pub async fn from_env(name: &str, policy: Policy) -> CircuitBreaker {
    match std::env::var(TABLE_ENV).ok().filter(|t| !t.trim().is_empty()) {
        #[cfg(feature = "dynamodb")]
        Some(table) => {
            let client = aws_sdk_dynamodb::Client::new(&crate::aws::sdk_config().await);
            let store: std::sync::Arc<dyn super::BreakerStore> =
                std::sync::Arc::new(super::DynamoDbBreakerStore::new(client, table));
            CircuitBreaker::shared(name, policy, store)
        }
        #[cfg(not(feature = "dynamodb"))]
        Some(_) => {
            tracing::warn!(
                breaker = name,
                "{TABLE_ENV} is set but halo was built without `dynamodb`: local state only"
            );
            CircuitBreaker::new(name, policy)
        }
        None => {
            if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
                tracing::warn!(
                    breaker = name,
                    "no {TABLE_ENV}: this breaker's state is per container, not shared by the fleet"
                );
            }
            CircuitBreaker::new(name, policy)
        }
    }
}

#[doc(hidden)]
pub mod __private {
    use super::*;

    /// The breaker of one `#[circuit_breaker]` function, built on first use.
    pub struct LazyBreaker {
        name: &'static str,
        policy: fn() -> Policy,
        cell: OnceCell<CircuitBreaker>,
    }

    impl LazyBreaker {
        /// A breaker named `name` with the policy `policy()`.
        pub const fn new(name: &'static str, policy: fn() -> Policy) -> LazyBreaker {
            LazyBreaker { name, policy, cell: OnceCell::const_new() }
        }

        /// The breaker (built from the environment the first time).
        pub async fn get(&self) -> &CircuitBreaker {
            self.cell.get_or_init(|| from_env(self.name, (self.policy)())).await
        }
    }
}
