//! What `#[halo::saga_step]` expansions call.

/// Converts a compensation's result for the [`Step`](crate::saga::Step) trait.
pub fn compensation_result<E: crate::IntoError>(result: Result<(), E>) -> Result<(), crate::Error> {
    result.map_err(crate::IntoError::into_error)
}

/// Registered by `#[halo::saga_step]`: the saga log from the environment
/// ([`crate::saga::log_from_env`]) is resolved at init.
pub const SAGA_LOG: crate::__private::StoreUse =
    crate::__private::StoreUse { feature: "saga", resolve: resolve_saga_log };

fn resolve_saga_log() -> crate::future::BoxFuture<'static, Result<(), String>> {
    Box::pin(async { crate::saga::log_from_env().await.map(drop).map_err(|err| crate::error::init::error_chain(&err)) })
}
