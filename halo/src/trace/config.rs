//! Whether spans are exported, where to, and how long an export may take.

use std::time::Duration;

use crate::platform::non_empty_var;

/// `true` prints each invocation's span tree on standard output (local
/// runs, or a quick look in CloudWatch Logs without a collector).
pub(crate) const STDOUT_ENV: &str = "HALO_TRACE_STDOUT";
/// The longest an invocation's spans may take to export, in milliseconds
/// (default 50).
pub(crate) const EXPORT_TIMEOUT_ENV: &str = "HALO_TRACE_EXPORT_TIMEOUT_MS";
/// How long an export may take when `HALO_TRACE_EXPORT_TIMEOUT_MS` is not set.
pub(crate) const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_millis(50);

/// How tracing is set up for a process, from the standard OpenTelemetry
/// variables and halo's own.
///
/// Spans are exported over OTLP/HTTP (protobuf) when
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` is
/// set (the ADOT collector extension and the CloudWatch agent listen on
/// `http://localhost:4318`), and printed as a tree when
/// `HALO_TRACE_STDOUT=true`. `OTEL_SDK_DISABLED=true` or
/// `OTEL_TRACES_EXPORTER=none` turns both off. Nothing set: no exporter,
/// no span, no cost. The service is `OTEL_SERVICE_NAME`, else
/// `HALO_SERVICE`, else the function name; the sampler is
/// `OTEL_TRACES_SAMPLER` (with `OTEL_TRACES_SAMPLER_ARG`), by default
/// following the caller's decision (`parentbased_always_on`).
///
/// ```
/// use std::time::Duration;
///
/// let config = halo::trace::TraceConfig::from_env().service("orders").export_timeout(Duration::from_millis(20));
/// assert!(format!("{config:?}").contains("orders"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceConfig {
    /// The full URL spans are posted to (`…/v1/traces`).
    endpoint: Option<String>,
    stdout: bool,
    export_timeout: Duration,
    service: String,
    record_only: bool,
}

impl TraceConfig {
    /// The configuration the environment describes (see the type's docs).
    pub fn from_env() -> TraceConfig {
        let is_true = |name: &str| non_empty_var(name).is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
        let off = is_true("OTEL_SDK_DISABLED")
            || non_empty_var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none"));
        // The signal's own variable is the URL itself; the general one is a
        // base to which the signal's path is added.
        let endpoint = non_empty_var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            .or_else(|| non_empty_var("OTEL_EXPORTER_OTLP_ENDPOINT").map(|base| traces_url(&base)));
        TraceConfig {
            endpoint: endpoint.filter(|_| !off),
            stdout: is_true(STDOUT_ENV) && !off,
            export_timeout: non_empty_var(EXPORT_TIMEOUT_ENV)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map_or(DEFAULT_EXPORT_TIMEOUT, |ms| Duration::from_millis(ms.clamp(1, 10_000))),
            service: non_empty_var("OTEL_SERVICE_NAME")
                .unwrap_or_else(|| crate::FunctionInfo::shared().service.clone()),
            record_only: false,
        }
    }

    /// Exports to the collector at `base` (its `/v1/traces`), as
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` does.
    #[must_use]
    pub fn endpoint_base(mut self, base: &str) -> TraceConfig {
        self.endpoint = Some(traces_url(base));
        self
    }

    /// Prints span trees on standard output, or not.
    #[must_use]
    pub fn stdout(mut self, stdout: bool) -> TraceConfig {
        self.stdout = stdout;
        self
    }

    /// Bounds each flush of spans.
    #[must_use]
    pub fn export_timeout(mut self, timeout: Duration) -> TraceConfig {
        self.export_timeout = timeout;
        self
    }

    /// Sets the `service.name`.
    #[must_use]
    pub fn service(mut self, service: impl Into<String>) -> TraceConfig {
        self.service = service.into();
        self
    }

    /// Records spans and drops them at export: what recording costs
    /// without any exporter (benchmarks).
    #[doc(hidden)]
    #[must_use]
    pub fn record_only(mut self) -> TraceConfig {
        self.record_only = true;
        self
    }

    /// Whether spans are recorded at all (an exporter is configured).
    pub(crate) fn enabled(&self) -> bool {
        self.endpoint.is_some() || self.stdout || self.record_only
    }

    /// The URL spans are posted to, when they are exported to a collector.
    #[cfg(feature = "otel")]
    pub(crate) fn endpoint_url(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// Whether span trees are printed on standard output.
    #[cfg(feature = "otel")]
    pub(crate) fn prints(&self) -> bool {
        self.stdout
    }

    /// The longest one flush of spans may take.
    #[cfg(feature = "otel")]
    pub(crate) fn flush_bound(&self) -> Duration {
        self.export_timeout
    }

    /// The `service.name` of the exported spans.
    #[cfg(feature = "otel")]
    pub(crate) fn service_name(&self) -> &str {
        &self.service
    }
}

/// `base` with the traces path: `http://localhost:4318` gives
/// `http://localhost:4318/v1/traces`.
fn traces_url(base: &str) -> String {
    format!("{}/v1/traces", base.trim_end_matches('/'))
}
