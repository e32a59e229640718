//! HTTP: the outgoing client ([`Client`]), which carries correlation ids and
//! respects the invocation's time budget; and, with the `axum` feature,
//! axum routers served on Lambda with halo's stack (`run`, `serve`).

#[cfg(feature = "axum")]
mod axum_support;
#[cfg(feature = "http-client")]
mod client;
#[cfg(feature = "axum")]
mod idempotent;
#[cfg(feature = "axum")]
mod request;
#[cfg(feature = "axum")]
mod router;

#[cfg(feature = "http-client")]
pub use client::{Client, ClientBuilder, RequestBuilder, Response};
#[cfg(feature = "axum")]
pub use idempotent::{Created, IDEMPOTENCY_KEY, IdempotentJson};
#[cfg(feature = "axum")]
pub use router::{handle_event, run, run_with_init, run_with_options, serve, with_halo_layers};
