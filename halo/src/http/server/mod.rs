//! Serving axum routers on Lambda and on a loopback port (feature `axum`).

mod extract;
mod idempotent;
mod request;
pub(crate) mod router;

pub use idempotent::{Created, IDEMPOTENCY_KEY, IdempotentJson};
#[cfg(feature = "http-client")]
pub(crate) use router::Forwarded;
pub use router::{run, run_with_init, run_with_options, serve};
