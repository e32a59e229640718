//! The [`IdempotencyStore`] trait (at the module root, where
//! `#[halo::idempotency]` expansions name it).

use super::store::{Claim, Record};
use crate::durable::{StoreError, forward_store};
use crate::future::BoxFuture;

/// Storage for idempotency records.
///
/// [`MemoryIdempotencyStore`](super::MemoryIdempotencyStore) (local runs, unit tests) and
/// [`DynamoDbIdempotencyStore`](super::DynamoDbIdempotencyStore) implement it; so do `Arc<S>`,
/// `Box<S>` and `&S` for any store `S`. An implementation must make
/// [`IdempotencyStore::claim`] atomic: of concurrent claims of a free key, exactly one
/// succeeds.
pub trait IdempotencyStore: Send + Sync {
    /// Writes `record` (an `INPROGRESS` claim) unless a record that still
    /// holds the key exists, i.e. one that is not expired at `now_ms` and is
    /// either completed or in progress before its `in_progress_expiration`.
    /// In one round trip: the holding record is returned on failure.
    fn claim<'a>(&'a self, record: &'a Record, now_ms: u64) -> BoxFuture<'a, Result<Claim, StoreError>>;

    /// Writes the completed `record`, replacing the claim.
    fn complete<'a>(&'a self, record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Deletes the record of `key` (absent is fine).
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Reads the record of `key` (strongly consistent where that matters).
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>>;
}

forward_store!(IdempotencyStore {
    fn claim<'a>(&'a self, record: &'a Record, now_ms: u64) -> BoxFuture<'a, Result<Claim, StoreError>>;
    fn complete<'a>(&'a self, record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>>;
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>>;
});
