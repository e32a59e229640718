#![doc = include_str!("../../docs/circuit-breakers.md")]

mod circuit;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod env;
mod fallback;
mod memory;
mod policy;
#[cfg(feature = "http-client")]
mod probe;
mod state;
pub mod store;

pub use circuit::CircuitBreaker;
#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoDbBreakerStore, table_spec};
pub use fallback::{FallbackReason, run_fallback};
pub use memory::MemoryBreakerStore;
pub use policy::{BreakerPolicy, is_downstream_failure};
#[cfg(feature = "http-client")]
pub use probe::{Health, probe};
pub use state::{Admission, BreakerState};
