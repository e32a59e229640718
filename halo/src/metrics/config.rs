//! Whether metrics are on, their namespace, service and output.

use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwap;

use super::dimensions::BaseDimensions;
use super::error::MetricsError;
use super::validate;
use crate::FunctionInfo;
use crate::log::CapturedLines;
use crate::platform::{in_lambda, non_empty_var};

/// The variable naming the metrics namespace (`POWERTOOLS_METRICS_NAMESPACE`
/// is read too, so existing templates keep working).
pub(crate) const NAMESPACE_ENV: &str = "HALO_METRICS_NAMESPACE";
/// `true` turns metrics off (`POWERTOOLS_METRICS_DISABLED` is read too).
pub(crate) const DISABLED_ENV: &str = "HALO_METRICS_DISABLED";
/// `true` turns on halo's own operational metrics
/// (the built-in metrics).
pub(crate) const BUILTIN_ENV: &str = "HALO_METRICS_BUILTIN";

/// Where EMF lines are written. Each line is written whole, with one
/// locked write, so lines of concurrent invocations never interleave.
///
/// ```
/// use std::sync::Arc;
/// use halo::metrics::MetricsOutput;
///
/// // Every line to a function of your own (a file, a telemetry extension).
/// let output = MetricsOutput::Custom(Arc::new(|line: &[u8]| assert!(line.ends_with(b"\n"))));
/// # let _ = output;
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum MetricsOutput {
    /// Standard output: inside Lambda, where CloudWatch Logs reads it.
    #[default]
    Stdout,
    /// Standard error: for local runs, whose standard output holds the
    /// responses.
    Stderr,
    /// Kept in memory, for tests.
    Captured(CapturedLines),
    /// Each line (newline included) handed to a function, which may be
    /// called from several threads at once.
    Custom(LineWriter),
}

/// A function that takes each EMF line ([`MetricsOutput::Custom`]).
pub type LineWriter = Arc<dyn Fn(&[u8]) + Send + Sync>;

impl std::fmt::Debug for MetricsOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetricsOutput::Stdout => f.write_str("Stdout"),
            MetricsOutput::Stderr => f.write_str("Stderr"),
            MetricsOutput::Captured(_) => f.write_str("Captured"),
            MetricsOutput::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl MetricsOutput {
    /// Standard output inside Lambda, standard error elsewhere.
    pub fn for_platform() -> MetricsOutput {
        if in_lambda() { MetricsOutput::Stdout } else { MetricsOutput::Stderr }
    }

    pub(crate) fn write(&self, line: &[u8]) {
        match self {
            MetricsOutput::Stdout => {
                let _ = std::io::stdout().lock().write_all(line);
            }
            MetricsOutput::Stderr => {
                let _ = std::io::stderr().lock().write_all(line);
            }
            MetricsOutput::Captured(lines) => {
                use tracing_subscriber::fmt::MakeWriter as _;
                let _ = lines.make_writer().write_all(line);
            }
            MetricsOutput::Custom(write) => write(line),
        }
    }
}

/// How halo's metrics are set up for a process: namespace, service
/// dimension, output, and which metrics halo adds by itself.
///
/// [`MetricsConfig::from_env`] reads `HALO_METRICS_NAMESPACE` (else
/// `POWERTOOLS_METRICS_NAMESPACE`), `HALO_METRICS_DISABLED` (else
/// `POWERTOOLS_METRICS_DISABLED`) and `HALO_METRICS_BUILTIN`; the service
/// is [`FunctionInfo::service`] (`HALO_SERVICE`, else the function name).
/// Metrics are on when a namespace is set, or when they are
/// [required](MetricsConfig::required) (`#[halo::handler(metrics)]`):
/// then a missing namespace fails the container's init inside Lambda, and
/// outside Lambda the service name stands in for it.
///
/// ```
/// use halo::metrics::{MetricsConfig, MetricsOutput};
///
/// let config = MetricsConfig::from_env().namespace("Orders").output(MetricsOutput::Stderr);
/// let options = halo::Options::from_env().metrics(config);
/// assert!(format!("{options:?}").contains("Orders"));
/// ```
#[derive(Clone, Debug)]
pub struct MetricsConfig {
    namespace: Option<String>,
    service: String,
    disabled: bool,
    required: bool,
    builtin: bool,
    cold_start_metric: bool,
    output: Option<MetricsOutput>,
}

impl MetricsConfig {
    /// The configuration the environment describes (see the type's docs).
    pub fn from_env() -> MetricsConfig {
        let flag = |names: &[&str]| names.iter().find_map(|n| non_empty_var(n)).is_some_and(|v| is_true(&v));
        MetricsConfig {
            namespace: non_empty_var(NAMESPACE_ENV).or_else(|| non_empty_var("POWERTOOLS_METRICS_NAMESPACE")),
            service: FunctionInfo::shared().service.clone(),
            disabled: flag(&[DISABLED_ENV, "POWERTOOLS_METRICS_DISABLED"]),
            required: false,
            builtin: flag(&[BUILTIN_ENV]),
            cold_start_metric: true,
            output: None,
        }
    }

    /// Sets the namespace every metric of the invocation goes to.
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> MetricsConfig {
        self.namespace = Some(namespace.into());
        self
    }

    /// Sets the value of the `service` dimension.
    #[must_use]
    pub fn service(mut self, service: impl Into<String>) -> MetricsConfig {
        self.service = service.into();
        self
    }

    /// Metrics are required: without a namespace, inside Lambda, the
    /// container's init fails instead of losing them.
    #[must_use]
    pub fn required(mut self) -> MetricsConfig {
        self.required = true;
        self
    }

    /// Turns metrics off (or on again) whatever else is set.
    #[must_use]
    pub fn disabled(mut self, disabled: bool) -> MetricsConfig {
        self.disabled = disabled;
        self
    }

    /// Turns halo's own operational metrics on or off
    /// (the built-in metrics); on, they require metrics.
    #[must_use]
    pub fn builtin(mut self, builtin: bool) -> MetricsConfig {
        self.builtin = builtin;
        self
    }

    /// Whether the first invocation of a container writes the `ColdStart`
    /// metric (default: yes).
    #[must_use]
    pub fn cold_start_metric(mut self, on: bool) -> MetricsConfig {
        self.cold_start_metric = on;
        self
    }

    /// Where lines go (default: [`MetricsOutput::for_platform`]).
    #[must_use]
    pub fn output(mut self, output: MetricsOutput) -> MetricsConfig {
        self.output = Some(output);
        self
    }

    /// Checks the configuration: an invalid namespace or service, or
    /// metrics required inside Lambda without a namespace, is an error
    /// naming the variable to set.
    pub(crate) fn resolve(&self) -> Result<ResolvedMetrics, MetricsError> {
        let output = self.output.clone().unwrap_or_else(MetricsOutput::for_platform);
        if self.disabled {
            return Ok(ResolvedMetrics::off(Off::Disabled, self.service.clone(), output));
        }
        let wanted = self.required || self.builtin;
        let namespace = match &self.namespace {
            Some(namespace) => namespace.clone(),
            None if wanted && in_lambda() => return Err(MetricsError::NamespaceMissing),
            None if wanted => self.service.clone(),
            None => return Ok(ResolvedMetrics::off(Off::NotConfigured, self.service.clone(), output)),
        };
        validate::namespace(&namespace)?;
        validate::dimension_value(&self.service)?;
        Ok(ResolvedMetrics {
            namespace: Arc::from(namespace),
            base: Arc::new(BaseDimensions::new(&self.service)),
            service: self.service.clone(),
            off: None,
            builtin: self.builtin,
            cold_start_metric: self.cold_start_metric,
            output,
            guessed_namespace: self.namespace.is_none(),
        })
    }
}

fn is_true(value: &str) -> bool {
    matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Off {
    Disabled,
    NotConfigured,
}

/// A checked [`MetricsConfig`]: what the invocations of a process use.
#[derive(Clone, Debug)]
pub(crate) struct ResolvedMetrics {
    namespace: Arc<str>,
    base: Arc<BaseDimensions>,
    service: String,
    off: Option<Off>,
    builtin: bool,
    cold_start_metric: bool,
    output: MetricsOutput,
    guessed_namespace: bool,
}

impl ResolvedMetrics {
    fn off(off: Off, service: String, output: MetricsOutput) -> ResolvedMetrics {
        ResolvedMetrics {
            namespace: Arc::from(""),
            base: Arc::new(BaseDimensions::new(&service)),
            service,
            off: Some(off),
            builtin: false,
            cold_start_metric: false,
            output,
            guessed_namespace: false,
        }
    }

    /// Metrics off, for a configuration that does not check.
    pub(crate) fn turned_off() -> ResolvedMetrics {
        ResolvedMetrics::off(Off::Disabled, FunctionInfo::shared().service.clone(), MetricsOutput::for_platform())
    }

    /// Whether metrics are written.
    pub(crate) fn enabled(&self) -> bool {
        self.off.is_none()
    }

    /// The namespace (empty when off).
    pub(crate) fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The `service` dimension's value.
    pub(crate) fn service(&self) -> &str {
        &self.service
    }

    pub(crate) fn namespace_arc(&self) -> &Arc<str> {
        &self.namespace
    }

    pub(crate) fn base(&self) -> &BaseDimensions {
        &self.base
    }

    pub(crate) fn cold_start_metric(&self) -> bool {
        self.cold_start_metric
    }

    pub(crate) fn output(&self) -> &MetricsOutput {
        &self.output
    }

    /// Makes this the process's configuration: the one used outside any
    /// invocation, by contexts that no halo's metrics layer
    /// set up, and by the `metrics` facade. [`run`](crate::run) does this
    /// at start.
    pub(crate) fn install(self) {
        BUILTIN.store(self.builtin && self.enabled(), Ordering::Relaxed);
        if self.guessed_namespace {
            tracing::warn!(
                namespace = &*self.namespace,
                "metrics are required but HALO_METRICS_NAMESPACE is not set: the service name stands in outside Lambda"
            );
        }
        PROCESS.store(Arc::new(Some(Arc::new(self))));
    }

    /// The process's configuration ([`ResolvedMetrics::install`]), else
    /// the environment's.
    pub(crate) fn current() -> Arc<ResolvedMetrics> {
        if let Some(config) = PROCESS.load().as_ref() {
            return Arc::clone(config);
        }
        let config = MetricsConfig::from_env().resolve().unwrap_or_else(|_| ResolvedMetrics::turned_off());
        let config = Arc::new(config);
        PROCESS.store(Arc::new(Some(Arc::clone(&config))));
        config
    }

    /// Tells once per process, when a metric is first added while metrics
    /// are not configured, how to turn them on.
    pub(crate) fn warn_if_unconfigured(&self) {
        static WARNED: AtomicBool = AtomicBool::new(false);
        if self.off == Some(Off::NotConfigured) && !WARNED.swap(true, Ordering::Relaxed) {
            tracing::warn!("a metric was added but metrics are off: set HALO_METRICS_NAMESPACE to write them");
        }
    }
}

static PROCESS: std::sync::LazyLock<ArcSwap<Option<Arc<ResolvedMetrics>>>> =
    std::sync::LazyLock::new(|| ArcSwap::from_pointee(None));

static BUILTIN: AtomicBool = AtomicBool::new(false);

/// Whether halo's operational metrics are on for this process.
pub(crate) fn builtin_on() -> bool {
    BUILTIN.load(Ordering::Relaxed)
}
