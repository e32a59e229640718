//! The runtime: the entry points ([`run`](crate::run) and its variants),
//! the handler service that decodes events and encodes responses, halo's
//! tower stack, the Lambda Runtime API loop, graceful shutdown and the
//! local command line.

mod catch_panic;
mod error_log;
pub(crate) mod handler;
pub(crate) mod http_response;
pub(crate) mod lambda;
pub(crate) mod local;
pub(crate) mod options;
pub(crate) mod response;
pub(crate) mod run;
pub(crate) mod shutdown;
pub(crate) mod stack;
pub(crate) mod store_use;

#[cfg(feature = "axum")]
pub(crate) use error_log::log_error;
#[cfg(feature = "axum")]
pub(crate) use http_response::CorrelationHeaderWritten;
#[cfg(feature = "axum")]
pub(crate) use http_response::proxy_response;
