//! HTTP: the outgoing client ([`Client`]), which carries correlation ids and
//! respects the invocation's time budget.

#[cfg(feature = "http-client")]
mod client;

#[cfg(feature = "http-client")]
pub use client::{Client, ClientBuilder, RequestBuilder, Response};
