//! What `#[halo::circuit_breaker]` expansions call.

use tokio::sync::OnceCell;

use crate::breaker::{CircuitBreaker, Policy, from_env};

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
