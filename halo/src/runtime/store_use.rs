//! Which stores a binary uses, known before its first invocation: the
//! macros register each feature whose store comes from the environment,
//! and the runtime resolves every registered store at init, so a missing
//! table fails the container's init with one message instead of failing
//! every invocation.

use std::collections::BTreeMap;

use crate::future::BoxFuture;

/// Builds (or checks) a feature's store from the environment; the error
/// says what to set.
pub(crate) type Resolve = fn() -> BoxFuture<'static, Result<(), String>>;

/// A feature of this binary whose store is chosen from the environment.
/// `#[halo::idempotent]` without `store = ...` registers the idempotency
/// store and `#[halo::saga_step]` the saga log, with
/// `inventory`.
#[doc(hidden)]
pub struct StoreUse {
    /// The feature, e.g. `"idempotency"`; registered many times, resolved once.
    pub feature: &'static str,
    /// Builds (or checks) the feature's store.
    pub resolve: Resolve,
}

impl std::fmt::Debug for StoreUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreUse").field("feature", &self.feature).finish_non_exhaustive()
    }
}

inventory::collect!(StoreUse);

/// Resolves the store of every feature this binary registered, once per
/// feature, in the order of their names, but those `unused` names (a
/// durable function's sagas keep their progress in its checkpoints, not
/// the saga log). The first failure is returned.
pub(crate) async fn resolve_used_stores(unused: &[&str]) -> Result<(), String> {
    let used: BTreeMap<&'static str, Resolve> = inventory::iter::<StoreUse>
        .into_iter()
        .filter(|used| !unused.contains(&used.feature))
        .map(|used| (used.feature, used.resolve))
        .collect();
    for (feature, resolve) in used {
        tracing::debug!(feature, "resolving the store this binary uses");
        resolve().await?;
    }
    Ok(())
}
