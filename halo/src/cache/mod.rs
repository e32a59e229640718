#![doc = include_str!("../../docs/cache.md")]

mod loading;
pub(crate) mod lru;
#[cfg(feature = "dynamodb")]
mod shared;

pub use loading::Cache;
#[cfg(feature = "dynamodb")]
pub use shared::SharedTier;
#[cfg(all(feature = "dynamodb", feature = "test-support"))]
pub(crate) use shared::table_spec;
