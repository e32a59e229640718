//! What `#[halo::saga_step]` expansions call.

/// Converts a compensation's result for the [`Step`](crate::saga::Step) trait.
pub fn compensation_result<E: crate::IntoError>(result: Result<(), E>) -> Result<(), crate::Error> {
    result.map_err(crate::IntoError::into_error)
}
