#![doc = include_str!("../../docs/http.md")]

#[cfg(feature = "http-client")]
mod client;
#[cfg(feature = "axum")]
pub(crate) mod server;

#[cfg(feature = "http-client")]
pub use client::{Client, ClientBuilder, RequestBuilder, Response};
#[cfg(feature = "axum")]
pub use server::{Created, IDEMPOTENCY_KEY, IdempotentJson, run, run_with_init, run_with_options, serve};
