//! The durable-state kernel: what idempotency, the saga log, shared
//! circuit breakers and fan-out share about their stores, each answered
//! once.
//!
//! - **Which store?** [`choose_store`]: DynamoDB when the feature's table
//!   variable is set, memory outside Lambda, and inside Lambda without the
//!   variable a clear init error naming it (or, for a feature that can
//!   work per container, memory with a warning: [`Fallback`]). Each
//!   feature's `store_from_env` builds its store by this rule once per
//!   container.
//! - **What went wrong?** [`StoreError`]: the operation, a
//!   [kind](StoreErrorKind) (unavailable, conflict, too large, not
//!   configured) and the cause, printed once.
//! - **Did my conditional write land?** [`dynamodb::Table::conditional`]
//!   sorts a conditional write's answer into [`dynamodb::Written`]: applied,
//!   or refused with the item as stored now (returned by DynamoDB, or read
//!   consistently from a store that does not return it). Every write of
//!   halo's stores carries its writer's token (an idempotency claim's
//!   owner, a saga run's lease, a breaker transition's writer, a fan-out
//!   part's delivery), so a write whose answer was lost, and that the SDK
//!   sent again, finds its own earlier attempt and is treated as done:
//!   never as a conflict, a duplicate, a stale version or a missing item.
//! - **Which table layout?** [`TableSpec`]: keys, indexes and the TTL
//!   attribute, written once per feature; every `create_table` builds its
//!   table from it ([`dynamodb::Table::create`]) and the examples'
//!   templates are checked against it.
//! - **In memory?** [`MemoryMap`]: the map of every in-memory twin, its
//!   read-check-write under one lock.
//!
//! A store of your own (another database) implements the feature's trait
//! (`IdempotencyStore`, `SagaLog`, `BreakerStore`, `FanoutStore`) and
//! returns [`StoreError`]s; the helpers here are for stores on DynamoDB.

mod choice;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
mod error;
pub(crate) mod feature;
mod forward;
mod memory;
pub(crate) mod store_use;
mod table;

pub use choice::{Fallback, STORES_ENV, StoreChoice, StoreConfigError, choose_store};
pub use error::{StoreError, StoreErrorKind};
pub(crate) use forward::forward_store;
pub use memory::MemoryMap;
pub use table::{Index, Key, KeyType, Projection, TableSpec};
