#![doc = include_str!("../../docs/context-and-logs.md")]
#![doc = include_str!("../../docs/debug-sampling.md")]

mod buffer;
mod capture;
mod fields;
mod json;
mod level;
mod panic;
mod settings;
mod timestamp;

pub use capture::CapturedLines;
pub(crate) use fields::push_bounded_value;
#[cfg(feature = "otel")]
pub(crate) use json::FLUSH_TARGET;
pub use json::{JsonLayer, flush_debug_buffer};
pub(crate) use level::level;
#[cfg(feature = "otel")]
pub(crate) use level::passes as level_passes;
pub(crate) use panic::install_panic_hook;
pub(crate) use panic::panic_message;
pub use settings::LogSettings;

use tracing_subscriber::layer::SubscriberExt;

/// Installs the JSON logger as the global `tracing` subscriber, with the
/// level, the debug sample rate (`HALO_DEBUG_SAMPLE_RATE`) and the debug
/// buffer size (`HALO_DEBUG_BUFFER_BYTES`) from the environment, and
/// (feature `otel`) OpenTelemetry tracing when the environment asks for it
/// ([`crate::trace::TraceConfig`]). Returns
/// `false` (and changes nothing) when a global subscriber was already
/// installed.
///
/// ```
/// halo::log::init();
/// tracing::info!("written as one JSON line on stderr");
/// ```
pub fn init() -> bool {
    LogSettings::from_env().apply();
    let (_, rejected_rate) = crate::correlation::sampling::sample_rate_from_env();
    let subscriber = tracing_subscriber::registry().with(JsonLayer::stderr());
    #[cfg(feature = "otel")]
    let (subscriber, trace_problem) = match crate::trace::layer(&crate::trace::TraceConfig::from_env()) {
        Ok(layer) => (subscriber.with(layer), None),
        Err(problem) => (subscriber.with(None), Some(problem)),
    };
    let installed = tracing::subscriber::set_global_default(subscriber).is_ok();
    if let Some(text) = rejected_rate {
        tracing::warn!(value = text, "HALO_DEBUG_SAMPLE_RATE is not a number from 0.0 to 1.0: sampling is off");
    }
    #[cfg(feature = "otel")]
    if let Some(problem) = trace_problem {
        tracing::warn!(problem, "tracing is off: it could not be set up");
    }
    #[cfg(not(feature = "otel"))]
    if crate::trace::TraceConfig::from_env().enabled() {
        tracing::warn!(
            "OTEL_EXPORTER_OTLP_ENDPOINT or HALO_TRACE_STDOUT is set, but halo was built without its `otel` feature: no spans are exported"
        );
    }
    installed
}

#[cfg(test)]
mod tests;
