//! What a view store implements: [`ViewStore`], applying one change's
//! writes once.

use serde_json::Value;

use super::write::ViewWrite;
use crate::durable::StoreError;
use crate::future::BoxFuture;

/// Which change a set of writes comes from: the projection, the source
/// item and its sequence number. A store applies a change's writes only
/// when the projection's last applied change of that source item is older
/// (in the same atomic write as the writes), so a redelivered change is
/// not counted twice and an older one never moves a view back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Guard {
    /// The projection's name.
    pub projection: String,
    /// The source item's key.
    pub source: String,
    /// The change's sequence number.
    pub sequence: u128,
}

impl Guard {
    /// The guard of `projection`'s writes for change `sequence` of `source`.
    pub fn new(projection: impl Into<String>, source: impl Into<String>, sequence: u128) -> Guard {
        Guard { projection: projection.into(), source: source.into(), sequence }
    }
}

/// What a store did with a change's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Applied {
    /// The writes were made.
    Written,
    /// The projection had already applied this change or a later one of
    /// the same item: nothing was written.
    AlreadyApplied,
}

/// A store of views. Implementations: [`MemoryViews`](super::MemoryViews)
/// and, with the `dynamodb` feature, `DynamoDbViews`.
pub trait ViewStore: Send + Sync {
    /// Makes `writes` at once, with the check of `guard`, all or none.
    fn apply<'a>(&'a self, guard: &'a Guard, writes: &'a [ViewWrite]) -> BoxFuture<'a, Result<Applied, StoreError>>;

    /// Item `key` of `view`.
    fn get<'a>(&'a self, view: &'a str, key: &'a str) -> BoxFuture<'a, Result<Option<Value>, StoreError>>;
}
