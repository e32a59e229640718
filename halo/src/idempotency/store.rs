//! What an idempotency store implements: the records of
//! [`IdempotencyStore`](super::IdempotencyStore) and the answer to a
//! claim. Service authors pick a store
//! ([`MemoryIdempotencyStore`](super::MemoryIdempotencyStore),
//! [`store_from_env`](super::store_from_env)); they need nothing here.

pub use super::record::{NotStored, Record, Status};

/// The answer to a claim: the key was free, or another record holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Claim {
    /// The record was written: this invocation owns the key. `previous` is
    /// the record it replaced (one that had expired), if any.
    Claimed {
        /// The expired record that was overwritten.
        previous: Option<Record>,
    },
    /// A live record holds the key (completed, or in progress before its
    /// deadline); it is returned as it is stored.
    Held(Record),
}
