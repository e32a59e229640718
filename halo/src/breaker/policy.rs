//! When a breaker trips, how long it stays open, how it closes again.

use std::sync::Arc;
use std::time::Duration;

use crate::Error;

/// Decides whether an error counts as a failure of the downstream.
pub(crate) type Classifier = Arc<dyn Fn(&Error) -> bool + Send + Sync>;

/// The default classifier: timeouts, upstream failures (connect errors,
/// HTTP 5xx), unavailability and throttling (429) count; other errors
/// (4xx: the caller's own mistakes) do not.
///
/// ```
/// use halo::breaker::is_downstream_failure;
/// assert!(is_downstream_failure(&halo::Error::timeout("slow")));
/// assert!(is_downstream_failure(&halo::Error::too_many_requests("throttled")));
/// assert!(!is_downstream_failure(&halo::Error::not_found("no such order")));
/// ```
pub fn is_downstream_failure(err: &Error) -> bool {
    err.kind().is_retryable()
}

/// A breaker's policy.
///
/// ```
/// use std::time::Duration;
/// use halo::breaker::BreakerPolicy;
///
/// let policy = BreakerPolicy::default()
///     .consecutive_failures(5)
///     .failure_rate(0.5, Duration::from_secs(30), 20)
///     .open_for(Duration::from_secs(5), Duration::from_secs(300))
///     .half_open(2, 3);
/// let breaker = halo::breaker::CircuitBreaker::new("payments", policy);
/// assert_eq!(breaker.name(), "payments");
/// ```
#[derive(Clone)]
pub struct BreakerPolicy {
    pub(crate) consecutive_failures: Option<u32>,
    pub(crate) failure_rate: Option<(f64, Duration, u32)>,
    pub(crate) open_for: Duration,
    pub(crate) max_open_for: Duration,
    pub(crate) jitter: bool,
    pub(crate) probes: u32,
    pub(crate) close_after: u32,
    pub(crate) half_open_timeout: Duration,
    pub(crate) refresh: Duration,
    pub(crate) classifier: Classifier,
}

impl std::fmt::Debug for BreakerPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BreakerPolicy")
            .field("consecutive_failures", &self.consecutive_failures)
            .field("failure_rate", &self.failure_rate)
            .field("open_for", &self.open_for)
            .field("max_open_for", &self.max_open_for)
            .field("probes", &self.probes)
            .field("close_after", &self.close_after)
            .field("half_open_timeout", &self.half_open_timeout)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl Default for BreakerPolicy {
    /// Trips on 5 consecutive failures; open 5 s, doubling per repeated
    /// trip up to 5 min, with jitter; half-open admits 1 probe and closes
    /// after 1 success, and a half-open period left undecided for 30 s
    /// starts over; shared state refreshed every 2 s.
    fn default() -> Self {
        BreakerPolicy {
            consecutive_failures: Some(5),
            failure_rate: None,
            open_for: Duration::from_secs(5),
            max_open_for: Duration::from_secs(300),
            jitter: true,
            probes: 1,
            close_after: 1,
            half_open_timeout: Duration::from_secs(30),
            refresh: Duration::from_secs(2),
            classifier: Arc::new(is_downstream_failure),
        }
    }
}

impl BreakerPolicy {
    /// Trips after `n` consecutive failures (`0` disables this rule).
    #[must_use]
    pub fn consecutive_failures(mut self, n: u32) -> Self {
        self.consecutive_failures = (n > 0).then_some(n);
        self
    }

    /// Trips when, over the last `window`, at least `min_calls` calls were
    /// made and the share of failures is at least `rate` (0.0–1.0).
    #[must_use]
    pub fn failure_rate(mut self, rate: f64, window: Duration, min_calls: u32) -> Self {
        self.failure_rate = Some((rate.clamp(0.0, 1.0), window.max(Duration::from_millis(10)), min_calls.max(1)));
        self
    }

    /// Open for `base` after the first trip, doubling on each trip that
    /// follows a failed probe, up to `max`.
    #[must_use]
    pub fn open_for(mut self, base: Duration, max: Duration) -> Self {
        self.open_for = base;
        self.max_open_for = max.max(base);
        self
    }

    /// No jitter on the open duration (tests, predictable demos).
    #[must_use]
    pub fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// Half-open admits at most `probes` calls (fleet-wide with a shared
    /// store) and closes after `successes` of them succeed.
    #[must_use]
    pub fn half_open(mut self, probes: u32, successes: u32) -> Self {
        self.probes = probes.max(1);
        self.close_after = successes.clamp(1, self.probes);
        self
    }

    /// How long a half-open period may stay undecided (default 30 s): when
    /// its probes were abandoned (cancelled calls) or leased by containers
    /// that never ran them (frozen, recycled), a new period starts with
    /// fresh probe slots instead of rejecting calls forever.
    #[must_use]
    pub fn half_open_timeout(mut self, timeout: Duration) -> Self {
        self.half_open_timeout = timeout.max(Duration::from_millis(10));
        self
    }

    /// How often the shared state is read, in the background (default 2 s).
    #[must_use]
    pub fn refresh_every(mut self, interval: Duration) -> Self {
        self.refresh = interval.max(Duration::from_millis(10));
        self
    }

    /// Decides what counts as a failure (default: [`is_downstream_failure`]).
    #[must_use]
    pub fn classifier(mut self, classify: impl Fn(&Error) -> bool + Send + Sync + 'static) -> Self {
        self.classifier = Arc::new(classify);
        self
    }

    /// The open duration after the `trip`-th consecutive trip (1-based),
    /// before jitter.
    pub(crate) fn open_duration(&self, trip: u32) -> Duration {
        let factor = 2u32.saturating_pow(trip.saturating_sub(1).min(20));
        self.open_for.saturating_mul(factor).min(self.max_open_for)
    }

    /// The open duration with jitter (up to +20 %), so containers that
    /// tripped together do not probe together.
    pub(crate) fn jittered_open_duration(&self, trip: u32) -> Duration {
        let base = self.open_duration(trip);
        if self.jitter { base.mul_f64(1.0 + fastrand::f64() * 0.2).min(self.max_open_for) } else { base }
    }
}
