//! Structured JSON logging on `tracing`.
//!
//! [`init`] installs a subscriber that writes every `tracing` event as one
//! JSON object per line on standard error, with the invocation's context
//! (request id, cold start, correlation id, …) taken from the current
//! [`Ctx`](crate::Ctx). [`crate::run`] calls it for you.
//!
//! Field names follow Powertools for AWS Lambda's logger where the concept
//! is the same (`service`, `cold_start`, `function_request_id`,
//! `correlation_id`, `xray_trace_id`, …), so dashboards and queries carry
//! over.
//!
//! The level comes from `HALO_LOG_LEVEL`, else `AWS_LAMBDA_LOG_LEVEL`, else
//! `INFO`, and can be changed at run time with [`set_level`].

mod capture;
mod fields;
mod json;
mod level;
mod panic;

pub use capture::CapturedLines;
pub use json::JsonLayer;
pub use level::{level, level_from_env, parse_level, set_level};
pub use panic::install_panic_hook;

use tracing_subscriber::layer::SubscriberExt;

/// Installs the JSON logger as the global `tracing` subscriber, with the
/// level from the environment. Returns `false` (and changes nothing) when a
/// global subscriber was already installed.
///
/// ```
/// halo::log::init();
/// tracing::info!("written as one JSON line on stderr");
/// ```
pub fn init() -> bool {
    set_level(level_from_env());
    let subscriber = tracing_subscriber::registry().with(JsonLayer::stderr());
    tracing::subscriber::set_global_default(subscriber).is_ok()
}
