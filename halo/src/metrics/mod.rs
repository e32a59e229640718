//! Metrics in CloudWatch's Embedded Metric Format (EMF): added anywhere in
//! an invocation, written once at its end as JSON lines that CloudWatch
//! Logs turns into metrics, with no API call and no added latency.
//!
//! The format and the names follow Powertools for AWS Lambda, so
//! dashboards and alarms carry over: a `service` dimension, a `ColdStart`
//! metric in a line of its own, metadata at the line's root.
//!
//! ```
//! use halo::metrics::{self, Unit};
//!
//! async fn place_order(amount_cents: u64) -> Result<(), halo::Error> {
//!     metrics::add_metric("OrdersPlaced", Unit::Count, 1.0)?;
//!     metrics::add_metric("OrderValue", Unit::None, amount_cents as f64)?;
//!     metrics::add_dimension("channel", "web")?;
//!     metrics::add_metadata("payment", "card")?;
//!     Ok(())
//! }
//! ```
//!
//! # Turning it on
//!
//! Metrics are written when a namespace is set (`HALO_METRICS_NAMESPACE`,
//! or `POWERTOOLS_METRICS_NAMESPACE` so existing templates keep working).
//! `#[halo::handler(metrics)]` (or [`Options::metrics`](crate::Options::metrics)
//! with [`MetricsConfig::required`]) makes them required: inside Lambda a
//! missing namespace then fails the container's init instead of losing
//! metrics. `HALO_METRICS_DISABLED=true` turns them off. The `service`
//! dimension is `HALO_SERVICE`, else the function name. See
//! [`MetricsConfig`].
//!
//! # What is written, and when
//!
//! Each invocation collects its own metrics ([`Metrics::current`]; batch
//! records add to their invocation's) and [`MetricsLayer`](crate::layers::MetricsLayer)
//! writes them when it ends, however it ends (an answer, an error, halo's
//! timeout, a panic): one line per set on standard output (standard error
//! for local runs, whose standard output holds the responses), each line
//! written whole. A line holds at most 100 metrics and 100 values per
//! metric; beyond that the set is written early and starts over, so no
//! line breaks CloudWatch's limits. An invocation that added nothing
//! writes nothing (but the container's first invocation writes
//! `ColdStart`).
//!
//! A name, value or dimension that CloudWatch would refuse is an error
//! ([`MetricsError`]) returned where it is added; nothing else is lost.
//!
//! halo's own features can count what they decide ([`builtin`]), and code
//! that records through the `metrics` facade crate lands in the same
//! lines (feature `metrics-facade`).

pub mod builtin;
mod config;
mod dimensions;
mod emf;
mod error;
#[cfg(feature = "metrics-facade")]
mod facade;
mod invocation;
mod set;
mod unit;
mod validate;

pub use config::{BUILTIN_ENV, DISABLED_ENV, LineWriter, MetricsConfig, MetricsOutput, NAMESPACE_ENV, ResolvedMetrics};
pub use dimensions::set_default_dimensions;
pub use error::MetricsError;
#[cfg(feature = "metrics-facade")]
pub use facade::install_recorder;
pub use invocation::{Metrics, attach, flush};
pub(crate) use invocation::{attach_shared, flush_container};
pub use set::{MAX_DIMENSIONS_PER_SET, MAX_METRICS_PER_LINE, MAX_VALUES_PER_METRIC};
pub use unit::{Resolution, Unit};
pub use validate::{MAX_DIMENSION_VALUE_BYTES, MAX_NAME_BYTES};

/// Makes `config` the process's ([`ResolvedMetrics::install`]) and, with
/// feature `metrics-facade` and metrics on, installs the facade's
/// recorder.
pub(crate) fn install(config: ResolvedMetrics) {
    #[cfg(feature = "metrics-facade")]
    let enabled = config.enabled();
    config.install();
    #[cfg(feature = "metrics-facade")]
    if enabled {
        install_recorder();
    }
}

/// Adds a value of a metric to the current invocation's main set
/// ([`Metrics::current`]).
pub fn add_metric(name: &str, unit: Unit, value: f64) -> Result<(), MetricsError> {
    Metrics::current().add_metric(name, unit, value)
}

/// Adds a value of a metric stored at `resolution` (1 s or 60 s) to the
/// current invocation's main set.
pub fn add_metric_with_resolution(
    name: &str,
    unit: Unit,
    resolution: Resolution,
    value: f64,
) -> Result<(), MetricsError> {
    Metrics::current().add_metric_with_resolution(name, unit, resolution, value)
}

/// Adds a dimension to the current invocation's main set.
pub fn add_dimension(name: &str, value: &str) -> Result<(), MetricsError> {
    Metrics::current().add_dimension(name, value)
}

/// Adds a dimension set to the current invocation's main set (see
/// [`Metrics::add_dimension_set`]).
pub fn add_dimension_set(dimensions: &[(&str, &str)]) -> Result<(), MetricsError> {
    Metrics::current().add_dimension_set(dimensions)
}

/// Adds metadata (a key on the line that is not a dimension) to the
/// current invocation's main set.
pub fn add_metadata(key: &str, value: impl Into<serde_json::Value>) -> Result<(), MetricsError> {
    Metrics::current().add_metadata(key, value)
}

#[cfg(test)]
mod tests;
