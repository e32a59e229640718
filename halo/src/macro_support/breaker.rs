//! What `#[halo::circuit_breaker]` expansions call.

use tokio::sync::OnceCell;

use crate::breaker::{BreakerPolicy, CircuitBreaker};

/// The breaker of one `#[circuit_breaker]` function, built on first use.
pub struct LazyBreaker {
    name: &'static str,
    policy: fn() -> BreakerPolicy,
    cell: OnceCell<CircuitBreaker>,
}

impl std::fmt::Debug for LazyBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyBreaker").field("name", &self.name).finish_non_exhaustive()
    }
}

impl LazyBreaker {
    /// A breaker named `name` with the policy `policy()`.
    pub const fn new(name: &'static str, policy: fn() -> BreakerPolicy) -> LazyBreaker {
        LazyBreaker { name, policy, cell: OnceCell::const_new() }
    }

    /// The breaker (built from the environment the first time).
    pub async fn get(&self) -> &CircuitBreaker {
        self.cell.get_or_init(|| CircuitBreaker::from_env(self.name, (self.policy)())).await
    }
}
