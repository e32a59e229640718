#![doc = include_str!("../../docs/metrics.md")]

pub(crate) mod builtin;
mod config;
mod dimensions;
mod emf;
mod error;
#[cfg(feature = "metrics-facade")]
mod facade;
mod invocation;
mod layer;
mod set;
mod unit;
mod validate;

pub(crate) use config::ResolvedMetrics;
pub use config::{LineWriter, MetricsConfig, MetricsOutput};
pub use dimensions::set_default_dimensions;
pub use error::MetricsError;
#[cfg(feature = "metrics-facade")]
pub use facade::install_recorder;
pub use invocation::{Metrics, attach, flush};
pub(crate) use invocation::{attach_shared, flush_container};
pub(crate) use layer::MetricsLayer;
pub use unit::{Resolution, Unit};

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
