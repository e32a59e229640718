#![doc = include_str!("../../docs/projections.md")]

mod change;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod env;
mod memory;
mod projector;
pub mod store;
mod write;

pub use change::Change;
#[cfg(feature = "dynamodb")]
pub use dynamodb::DynamoDbViews;
#[cfg(all(feature = "dynamodb", feature = "test-support"))]
pub(crate) use dynamodb::table_spec;
pub use memory::MemoryViews;
pub use projector::{FnProjection, Projection, Projector, from_fn};
pub use write::ViewWrite;
