//! The [`IdempotencyStore`] trait: where idempotency records live.

use std::fmt;
use std::sync::Arc;

use super::record::Record;
use crate::{BoxError, BoxFuture};

/// The answer to a claim: the key was free, or another record holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// A failure to reach or use the store (network, throttling, permissions,
/// malformed item). Its text is for logs only.
#[derive(Debug)]
pub struct StoreError {
    operation: &'static str,
    source: BoxError,
}

impl StoreError {
    /// A failure of `operation` (e.g. `PutItem`) caused by `source`.
    pub fn new(operation: &'static str, source: impl Into<BoxError>) -> StoreError {
        StoreError { operation, source: source.into() }
    }

    /// The store operation that failed.
    pub fn operation(&self) -> &'static str {
        self.operation
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operation == CONFIGURATION {
            return write!(f, "idempotency store: {}", self.source);
        }
        write!(f, "idempotency store: {} failed: {}", self.operation, self.source)
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.source.as_ref())
    }
}

/// `IdempotencyStore` (503, retryable): the store could not be used, so
/// nothing ran; the store's error is the internal cause. A store that is
/// not configured (no table inside Lambda) is the operator's mistake, not
/// an outage: `StoreNotConfigured` (500).
impl crate::IntoError for StoreError {
    fn into_error(self) -> crate::Error {
        if self.operation == CONFIGURATION {
            return crate::Error::internal(self).with_code("StoreNotConfigured");
        }
        crate::Error::unavailable("the idempotency store is unavailable; retry later")
            .with_code("IdempotencyStore")
            .with_source(self)
    }
}

/// The operation of a [`StoreError`] that says the store is not configured.
pub(crate) const CONFIGURATION: &str = "configuration";

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

macro_rules! forward_store {
    ($($ty:ty),*) => {$(
        impl<S: IdempotencyStore + ?Sized> IdempotencyStore for $ty {
            fn claim<'a>(&'a self, record: &'a Record, now_ms: u64) -> BoxFuture<'a, Result<Claim, StoreError>> {
                (**self).claim(record, now_ms)
            }
            fn complete<'a>(&'a self, record: &'a Record) -> BoxFuture<'a, Result<(), StoreError>> {
                (**self).complete(record)
            }
            fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
                (**self).delete(key)
            }
            fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Record>, StoreError>> {
                (**self).get(key)
            }
        }
    )*};
}

forward_store!(Arc<S>, Box<S>, &S);
