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

/// Registered by `#[halo::idempotent]` without `store = ...`: the default
/// store ([`crate::idempotency::store_from_env`]) is resolved at init
/// (unless `HALO_IDEMPOTENCY_DISABLED` turns idempotency off).
pub const IDEMPOTENCY_STORE: crate::__private::StoreUse =
    crate::__private::StoreUse { feature: "idempotency", resolve: resolve_default_store };

fn resolve_default_store() -> crate::future::BoxFuture<'static, Result<(), String>> {
    Box::pin(async {
        if crate::idempotency::disabled_by_env() {
            return Ok(());
        }
        crate::idempotency::init().await.map_err(|err| crate::error::init::error_chain(&err))
    })
}
