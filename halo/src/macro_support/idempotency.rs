//! What `#[halo::idempotent]` expansions call (with the checks of
//! [`crate::idempotency::IdempotentPayload`], `IdempotentResponse` and
//! `IdempotentError`).

use std::time::Duration;

use crate::idempotency::IdempotencyStore;

pub use std::sync::LazyLock;

/// Turns any store reference into a trait object.
pub fn dyn_store<S: IdempotencyStore>(store: &S) -> &dyn IdempotencyStore {
    store
}

/// A duration given in the macro as milliseconds.
pub const fn millis(ms: u64) -> Duration {
    Duration::from_millis(ms)
}
