//! The settings of halo's stack that are not per invocation.

use std::sync::Arc;
use std::time::Duration;

use crate::correlation::{Extractor, TrustedSources};
use crate::{Error, Invocation, InvocationService};

/// A service author's layer, boxed: wraps the inner service in its own.
pub(crate) type BoxedLayer = Arc<dyn Fn(InvocationService) -> InvocationService + Send + Sync>;

/// Settings of halo's stack that are not per invocation, built like a
/// builder: each method sets one and returns the options. What applies to
/// an invocation is read from its context (`ctx.timeout_margin()`).
///
/// ```
/// use std::time::Duration;
///
/// let options = halo::Options::from_env().timeout_margin(Duration::from_millis(500));
/// assert!(format!("{options:?}").contains("500ms"));
/// ```
#[derive(Clone)]
pub struct Options {
    pub(crate) timeout_margin: Duration,
    pub(crate) fallback_timeout: Option<Duration>,
    pub(crate) shutdown_grace: Duration,
    pub(crate) extractors: Vec<Arc<dyn Extractor>>,
    pub(crate) trusted_debug_sources: TrustedSources,
    /// An entry of `HALO_DEBUG_FLAG_SOURCES` that is not a source name,
    /// logged once the logger is up.
    pub(crate) invalid_trusted_source: Option<String>,
    pub(crate) metrics: crate::metrics::MetricsConfig,
    /// The service author's layers, outermost first.
    pub(crate) layers: Vec<BoxedLayer>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("timeout_margin", &self.timeout_margin)
            .field("fallback_timeout", &self.fallback_timeout)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("extractors", &self.extractors.len())
            .field("trusted_debug_sources", &self.trusted_debug_sources)
            .field("metrics", &self.metrics)
            .field("layers", &self.layers.len())
            .finish()
    }
}

impl Default for Options {
    fn default() -> Self {
        Options::from_env()
    }
}

impl Options {
    /// Options from the environment: the timeout margin from
    /// `HALO_TIMEOUT_MARGIN_MS` (default 200 ms), the timeout used when the
    /// Runtime API's deadline cannot be right from `HALO_TIMEOUT_MS`
    /// (see [`Options::fallback_timeout`]), the sources whose debug
    /// flag is honoured from `HALO_DEBUG_FLAG_SOURCES` (default: not HTTP,
    /// see [`TrustedSources`]), the metrics configuration
    /// ([`MetricsConfig::from_env`](crate::metrics::MetricsConfig::from_env)),
    /// no custom extractors.
    pub fn from_env() -> Options {
        let (trusted_debug_sources, invalid_trusted_source) = match TrustedSources::from_env() {
            Ok(trusted) => (trusted, None),
            Err(name) => (TrustedSources::default(), Some(name)),
        };
        Options {
            timeout_margin: crate::timeout::margin_from_env(),
            fallback_timeout: crate::timeout::fallback_timeout_from_env(),
            shutdown_grace: super::shutdown::grace_from_env(),
            extractors: Vec::new(),
            trusted_debug_sources,
            invalid_trusted_source,
            metrics: crate::metrics::MetricsConfig::from_env(),
            layers: Vec::new(),
        }
    }

    /// The event sources whose incoming `debug-log-enabled: true` switches
    /// on debug logging for the invocation (default: SQS, SNS, EventBridge,
    /// Kinesis, DynamoDB Streams and direct invokes; not HTTP events, whose
    /// callers may be anyone).
    ///
    /// ```
    /// use halo::correlation::TrustedSources;
    /// use halo::event::EventSource;
    ///
    /// // An internal API behind IAM auth: let its callers sample the chain.
    /// let options = halo::Options::from_env().trusted_debug_sources(TrustedSources::default().with(EventSource::ApiGatewayV1));
    /// ```
    #[must_use]
    pub fn trusted_debug_sources(mut self, trusted: TrustedSources) -> Options {
        self.trusted_debug_sources = trusted;
        self
    }

    /// How long the invocations in flight may take to finish after SIGTERM
    /// before the process exits (`HALO_SHUTDOWN_GRACE_MS`, default 500 ms;
    /// the guide's "Graceful shutdown", in [`crate::handler`]).
    ///
    /// ```
    /// let options = halo::Options::from_env().shutdown_grace(std::time::Duration::from_millis(300));
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn shutdown_grace(mut self, grace: Duration) -> Options {
        self.shutdown_grace = grace;
        self
    }

    /// The safety margin kept before Lambda's deadline.
    #[must_use]
    pub fn timeout_margin(mut self, margin: Duration) -> Options {
        self.timeout_margin = margin;
        self
    }

    /// The timeout of an invocation whose Runtime API sends a deadline that
    /// cannot be right (already past, or beyond Lambda's 15 minutes, as
    /// cargo-lambda's emulator does); default `HALO_TIMEOUT_MS`, else 15
    /// minutes. Real Lambda deadlines are always used. See
    /// [`crate::timeout`].
    ///
    /// ```
    /// let options = halo::Options::from_env().fallback_timeout(std::time::Duration::from_secs(10));
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn fallback_timeout(mut self, timeout: Duration) -> Options {
        self.fallback_timeout = Some(timeout);
        self
    }

    /// How the invocations' metrics are written (default:
    /// [`MetricsConfig::from_env`](crate::metrics::MetricsConfig::from_env));
    /// `#[halo::handler(metrics)]` sets it to the environment's,
    /// [required](crate::metrics::MetricsConfig::required).
    ///
    /// ```
    /// use halo::metrics::MetricsConfig;
    ///
    /// let options = halo::Options::from_env().metrics(MetricsConfig::from_env().namespace("Orders"));
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn metrics(mut self, config: crate::metrics::MetricsConfig) -> Options {
        self.metrics = config;
        self
    }

    /// Adds a correlation extractor, tried before halo's own (in the order
    /// added).
    #[must_use]
    pub fn extractor(mut self, extractor: impl Extractor) -> Options {
        self.extractors.push(Arc::new(extractor));
        self
    }

    /// Adds a tower layer of the service author's own around the handler,
    /// inside halo's stack: it runs after the invocation's context,
    /// correlation id and deadline are set, and a panic in it is caught
    /// like one in the handler. Layers added first run outermost.
    ///
    /// ```
    /// use tower::layer::layer_fn;
    /// use tower::ServiceExt as _;
    ///
    /// // Counts invocations before the handler sees them.
    /// let options = halo::Options::from_env().layer(layer_fn(|inner: halo::InvocationService| {
    ///     halo::InvocationService::new(inner.map_request(|inv: halo::Invocation| {
    ///         tracing::debug!(request_id = inv.ctx.request_id(), "counted");
    ///         inv
    ///     }))
    /// }));
    /// assert!(format!("{options:?}").contains("layers: 1"));
    /// ```
    #[must_use]
    pub fn layer<L>(mut self, layer: L) -> Options
    where
        L: tower::Layer<InvocationService> + Send + Sync + 'static,
        L::Service: tower::Service<Invocation, Response = Box<serde_json::value::RawValue>, Error = Error>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as tower::Service<Invocation>>::Future: Send + 'static,
    {
        self.layers.push(Arc::new(move |inner| InvocationService::new(layer.layer(inner))));
        self
    }
}
