//! The per-container cache: a value loaded once, read in memory, refreshed
//! in the background when older than its max age (stale-while-revalidate).

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::error::ParamsError;
use crate::future::BoxFuture;
use crate::retry::{Backoff, retry};

/// Fetches a fresh value.
pub(crate) type Fetch<T> = Arc<dyn Fn() -> BoxFuture<'static, Result<T, ParamsError>> + Send + Sync>;

type Listener<T> = Box<dyn Fn(&T) + Send + Sync>;

/// How refresh failures are retried: inside one refresh, and between
/// refreshes after a refresh failed for good.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefreshPolicy {
    /// Attempts inside one background refresh (with backoff).
    pub(crate) attempts: Backoff,
    /// The wait before the next refresh after a failed one, by number of
    /// consecutive failures (its ceilings are used, without jitter).
    pub(crate) cooldown: Backoff,
}

impl RefreshPolicy {
    /// `attempts` inside one background refresh (with backoff); after a
    /// refresh failed for good, the wait before the next is `cooldown`'s
    /// ceiling for the number of consecutive failures (without jitter).
    pub fn new(attempts: Backoff, cooldown: Backoff) -> RefreshPolicy {
        RefreshPolicy { attempts, cooldown }
    }
}

impl Default for RefreshPolicy {
    /// 3 attempts 100 ms → 2 s apart; after a failed refresh, wait 1 s,
    /// 2 s, 4 s … at most 60 s before the next.
    fn default() -> Self {
        RefreshPolicy {
            attempts: Backoff::new(3).initial_delay(Duration::from_millis(100)).max_delay(Duration::from_secs(2)),
            cooldown: Backoff::new(u32::MAX)
                .initial_delay(Duration::from_secs(1))
                .max_delay(Duration::from_secs(60))
                .without_jitter(),
        }
    }
}

/// A loaded configuration value: read it with [`get`](LiveConfig::get), an
/// in-memory read (no I/O, tens of nanoseconds).
///
/// When the value is older than its max age, `get` still returns it at
/// once and starts one background refresh on the current tokio runtime;
/// the next `get` after the refresh sees the new value. A failed refresh
/// keeps the old value, logs a warning (never a value), and is retried with
/// backoff. Clones share the value.
///
/// ```
/// use halo::params::LiveConfig;
///
/// #[derive(Debug)]
/// struct Settings { greeting: String }
///
/// // A fixed value, e.g. for unit tests of a handler: never refreshed.
/// let config = LiveConfig::fixed(Settings { greeting: "hi".into() });
/// assert_eq!(config.get().greeting, "hi");
/// ```
pub struct LiveConfig<T> {
    inner: Arc<Inner<T>>,
}

impl<T> Clone for LiveConfig<T> {
    fn clone(&self) -> Self {
        LiveConfig { inner: Arc::clone(&self.inner) }
    }
}

impl<T> std::fmt::Debug for LiveConfig<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveConfig")
            .field("path", &self.inner.path)
            .field("max_age", &self.inner.max_age)
            .field("age", &self.age())
            .finish_non_exhaustive()
    }
}

/// The value of a [`LiveConfig`] at one moment: derefs to `T`. Cheap to take
/// (no reference count change in the common case); keep it for the length
/// of an invocation, or turn it into an `Arc` with
/// [`into_arc`](Snapshot::into_arc) to keep it longer. A refresh does not
/// change a snapshot already taken.
pub struct Snapshot<T>(arc_swap::Guard<Arc<T>>);

impl<T> Snapshot<T> {
    /// The value as an `Arc`.
    pub fn into_arc(self) -> Arc<T> {
        arc_swap::Guard::into_inner(self.0)
    }
}

impl<T> std::ops::Deref for Snapshot<T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Snapshot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        T::fmt(self, f)
    }
}

struct Inner<T> {
    /// What the value was loaded from, for logs.
    path: String,
    value: ArcSwap<T>,
    max_age: Duration,
    /// Nanoseconds are counted from here.
    base: Instant,
    loaded_at: AtomicU64,
    /// No background refresh starts before this (after failures).
    not_before: AtomicU64,
    failures: AtomicU32,
    refreshing: AtomicBool,
    /// Bumped after every background refresh, successful or not.
    settled: tokio::sync::watch::Sender<u64>,
    fetch: Option<Fetch<T>>,
    policy: RefreshPolicy,
    listeners: Mutex<Vec<Listener<T>>>,
}

impl<T> LiveConfig<T> {
    /// The path (or name) the value was loaded from.
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// The max age of the value.
    pub fn max_age(&self) -> Duration {
        self.inner.max_age
    }

    /// How long ago the value was loaded.
    pub fn age(&self) -> Duration {
        Duration::from_nanos(self.now().saturating_sub(self.inner.loaded_at.load(Ordering::Relaxed)))
    }

    /// Whether a background refresh is running.
    pub fn is_refreshing(&self) -> bool {
        self.inner.refreshing.load(Ordering::Acquire)
    }

    /// Waits until the background refresh in flight (if any) has finished,
    /// successfully or not. Returns at once when none is running.
    pub async fn refreshed(&self) {
        let mut settled = self.inner.settled.subscribe();
        if !self.is_refreshing() {
            return;
        }
        // The sender lives in `inner`, which `self` keeps alive.
        let _ = settled.changed().await;
    }

    fn now(&self) -> u64 {
        nanos(self.inner.base.elapsed())
    }
}

impl<T: Send + Sync + 'static> LiveConfig<T> {
    /// A value that never changes (no source, never refreshed).
    pub fn fixed(value: T) -> LiveConfig<T> {
        LiveConfig::build("(fixed)".into(), value, Duration::MAX, None, RefreshPolicy::default())
    }

    pub(crate) fn build(
        path: String,
        value: T,
        max_age: Duration,
        fetch: Option<Fetch<T>>,
        policy: RefreshPolicy,
    ) -> LiveConfig<T> {
        LiveConfig {
            inner: Arc::new(Inner {
                path,
                value: ArcSwap::from_pointee(value),
                max_age,
                base: Instant::now(),
                loaded_at: AtomicU64::new(0),
                not_before: AtomicU64::new(0),
                failures: AtomicU32::new(0),
                refreshing: AtomicBool::new(false),
                settled: tokio::sync::watch::Sender::new(0),
                fetch,
                policy,
                listeners: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The current value: an in-memory read. Starts a background refresh
    /// when the value is older than the max age.
    #[inline]
    pub fn get(&self) -> Snapshot<T> {
        self.get_within(self.inner.max_age)
    }

    /// Like [`get`](LiveConfig::get) with a max age for this call only.
    #[inline]
    pub fn get_within(&self, max_age: Duration) -> Snapshot<T> {
        let value = Snapshot(self.inner.value.load());
        if self.inner.fetch.is_some() {
            let now = self.now();
            let loaded_at = self.inner.loaded_at.load(Ordering::Relaxed);
            if now.saturating_sub(loaded_at) >= nanos(max_age) && now >= self.inner.not_before.load(Ordering::Relaxed) {
                self.start_refresh();
            }
        }
        value
    }

    /// Loads a fresh value now and waits for it (a forced refresh). On
    /// failure the current value stays and the error is returned.
    pub async fn refresh(&self) -> Result<(), ParamsError> {
        let Some(fetch) = &self.inner.fetch else { return Ok(()) };
        let value = fetch().await?;
        self.store(value);
        Ok(())
    }

    /// Calls `listener` with the current value now and with every new value
    /// after a refresh: for run-time switches such as the log level (see
    /// [`LogSwitches`](super::LogSwitches)).
    pub fn on_change(&self, listener: impl Fn(&T) + Send + Sync + 'static) {
        listener(&self.inner.value.load());
        crate::lock::lock(&self.inner.listeners).push(Box::new(listener));
    }

    fn store(&self, value: T) {
        let value = Arc::new(value);
        self.inner.value.store(Arc::clone(&value));
        self.inner.loaded_at.store(self.now(), Ordering::Relaxed);
        self.inner.failures.store(0, Ordering::Relaxed);
        self.inner.not_before.store(0, Ordering::Relaxed);
        for listener in crate::lock::lock(&self.inner.listeners).iter() {
            listener(&value);
        }
    }

    #[cold]
    fn start_refresh(&self) {
        let Some(fetch) = self.inner.fetch.clone() else { return };
        if self.inner.refreshing.compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed).is_err() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.inner.refreshing.store(false, Ordering::Release);
            tracing::debug!(path = %self.inner.path, "no tokio runtime here: the stale configuration is not refreshed");
            return;
        };
        let config = self.clone();
        runtime.spawn(async move {
            let policy = config.inner.policy;
            let outcome = retry(&policy.attempts, |_| fetch(), ParamsError::is_retryable).await;
            match outcome.result {
                Ok(value) => {
                    config.store(value);
                    tracing::debug!(path = %config.inner.path, attempts = outcome.attempts, "configuration refreshed");
                }
                Err(err) => {
                    let failures = config.inner.failures.fetch_add(1, Ordering::Relaxed).saturating_add(1);
                    let cooldown = policy.cooldown.ceiling(failures);
                    config.inner.not_before.store(config.now().saturating_add(nanos(cooldown)), Ordering::Relaxed);
                    tracing::warn!(
                        path = %config.inner.path,
                        error_cause = %err,
                        attempts = outcome.attempts,
                        failures,
                        retry_in_ms = cooldown.as_millis() as u64,
                        age_ms = config.age().as_millis() as u64,
                        "configuration refresh failed; serving the previous value"
                    );
                }
            }
            config.inner.refreshing.store(false, Ordering::Release);
            config.inner.settled.send_modify(|n| *n = n.wrapping_add(1));
        });
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::params::error::ParamsErrorKind;

    /// A fetch that counts calls and returns the count, or fails while
    /// `failing` is set.
    fn counting(failing: Arc<AtomicBool>) -> (Fetch<usize>, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&calls);
        let fetch: Fetch<usize> = Arc::new(move || {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            let fail = failing.load(Ordering::SeqCst);
            Box::pin(
                async move { if fail { Err(ParamsError::new(ParamsErrorKind::Unavailable, "down")) } else { Ok(n) } },
            )
        });
        (fetch, calls)
    }

    fn fast_policy() -> RefreshPolicy {
        RefreshPolicy {
            attempts: Backoff::new(2).initial_delay(Duration::from_millis(1)),
            cooldown: Backoff::new(u32::MAX).initial_delay(Duration::from_millis(1)).without_jitter(),
        }
    }

    #[tokio::test]
    async fn fresh_values_are_served_without_fetching() {
        let (fetch, calls) = counting(Arc::default());
        let config = LiveConfig::build("/p".into(), 0, Duration::from_secs(300), Some(fetch), fast_policy());
        for _ in 0..100 {
            assert_eq!(*config.get(), 0);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        assert!(!config.is_refreshing());
    }

    #[tokio::test]
    async fn stale_values_are_served_then_refreshed_once() {
        let (fetch, calls) = counting(Arc::default());
        let config = LiveConfig::build("/p".into(), 0, Duration::ZERO, Some(fetch), fast_policy());
        assert_eq!(*config.get(), 0, "the stale value comes back at once");
        assert_eq!(*config.get(), 0, "a second access does not start a second refresh");
        config.refreshed().await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(*config.get_within(Duration::from_secs(60)), 1);
    }

    #[tokio::test]
    async fn failed_refresh_keeps_the_value_and_backs_off() {
        let failing = Arc::new(AtomicBool::new(true));
        let (fetch, calls) = counting(Arc::clone(&failing));
        let config = LiveConfig::build("/p".into(), 7, Duration::ZERO, Some(fetch), fast_policy());
        config.get();
        config.refreshed().await;
        assert_eq!(calls.load(Ordering::SeqCst), 2, "two attempts in one refresh");
        assert_eq!(*config.get_within(Duration::MAX), 7);
        assert!(config.inner.not_before.load(Ordering::Relaxed) > 0, "a cooldown is set");
        failing.store(false, Ordering::SeqCst);
        assert!(config.refresh().await.is_ok());
        assert_eq!(*config.get_within(Duration::MAX), 3);
    }

    #[tokio::test]
    async fn listeners_see_every_value() {
        let (fetch, _) = counting(Arc::default());
        let config = LiveConfig::build("/p".into(), 0, Duration::from_secs(300), Some(fetch), fast_policy());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        config.on_change(move |v| sink.lock().unwrap().push(*v));
        config.refresh().await.unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![0, 1]);
    }

    #[test]
    fn snapshots_can_cross_await_points_of_send_futures() {
        fn assert_send_sync<S: Send + Sync>() {}
        assert_send_sync::<Snapshot<String>>();
        assert_send_sync::<LiveConfig<String>>();
    }

    #[test]
    fn without_a_runtime_nothing_is_spawned() {
        let (fetch, calls) = counting(Arc::default());
        let config = LiveConfig::build("/p".into(), 0, Duration::ZERO, Some(fetch), fast_policy());
        assert_eq!(*config.get(), 0);
        assert!(!config.is_refreshing());
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }
}
