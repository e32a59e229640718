#![doc = include_str!("../../docs/cache.md")]

mod loading;
pub(crate) mod lru;

pub use loading::Cache;
