#![doc = include_str!("../../docs/projections.md")]

mod change;
mod memory;
mod projector;
pub mod store;
mod write;

pub use change::Change;
pub use memory::MemoryViews;
pub use projector::{FnProjection, Projection, Projector, from_fn};
pub use write::ViewWrite;
