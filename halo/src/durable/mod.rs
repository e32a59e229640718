#![doc = include_str!("../../docs/durable-state.md")]

mod choice;
#[cfg(feature = "dynamodb")]
pub mod dynamodb;
mod error;
pub(crate) mod feature;
mod forward;
mod memory;
mod table;

pub use choice::{Fallback, StoreChoice, StoreConfigError, choose_store};
pub use error::{StoreError, StoreErrorKind};
pub(crate) use forward::forward_store;
pub use memory::MemoryMap;
pub use table::{Index, KeyAttribute, KeyType, Projection, TableSpec};
