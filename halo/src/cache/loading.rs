//! [`Cache`]: a value per key, loaded once and kept in the container.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use super::lru::Lru;
use crate::error::{Error, ErrorKind, IntoError};
use crate::future::BoxFuture;
use crate::platform::Clock;

/// Cache-aside in the container: each key's value is loaded by the
/// cache's loader on a miss, kept for a time to live, and shared by every
/// invocation of the container (all of them at once under Lambda Managed
/// Instances).
///
/// - **One load per miss**: concurrent misses of one key wait for a
///   single call of the loader; when it fails, they all get its error
///   (its kind, code and public message) and the next read tries again.
/// - **Stale while revalidate**: with [`stale_for`](Cache::stale_for), a
///   value past its time to live is still served for that long while one
///   background load refreshes it.
/// - **Bounded**: at most [`max_entries`](Cache::max_entries) values, and
///   with [`max_bytes`](Cache::max_bytes) at most that weight; the least
///   recently used go first.
/// - [`invalidate`](Cache::invalidate) forgets a key at once, in this
///   container (a load in flight for it is not stored).
///
/// Clones share the cache. Settings are made as the cache is built: each
/// returns a new, empty cache with the same loader.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use halo::cache::Cache;
///
/// let titles = Cache::new("titles", |id: String| async move {
///     // A DynamoDB GetItem, an HTTP call...
///     Ok::<_, halo::Error>(format!("post {id}"))
/// })
/// .ttl(Duration::from_secs(30))
/// .max_entries(10_000);
///
/// let title = titles.get("7").await?;
/// assert_eq!(title.as_str(), "post 7");
/// # Ok::<(), halo::Error>(())
/// # }).unwrap();
/// ```
pub struct Cache<V> {
    shared: Arc<Shared<V>>,
}

/// What every clone of a cache shares.
struct Shared<V> {
    name: String,
    loader: Loader<V>,
    settings: Settings<V>,
    state: Mutex<State<V>>,
}

type Loader<V> = Arc<dyn Fn(String) -> BoxFuture<'static, Result<V, Error>> + Send + Sync>;
type Weigher<V> = Arc<dyn Fn(&V) -> usize + Send + Sync>;

struct Settings<V> {
    ttl: Duration,
    stale_for: Duration,
    max_entries: usize,
    max_bytes: usize,
    weigher: Option<Weigher<V>>,
    clock: Arc<dyn Clock>,
}

impl<V> Clone for Settings<V> {
    fn clone(&self) -> Self {
        Settings {
            ttl: self.ttl,
            stale_for: self.stale_for,
            max_entries: self.max_entries,
            max_bytes: self.max_bytes,
            weigher: self.weigher.clone(),
            clock: self.clock.clone(),
        }
    }
}

struct State<V> {
    values: Lru<Entry<V>>,
    /// The load in flight per key: its outcome, once known.
    loads: HashMap<String, watch::Receiver<Option<Outcome<V>>>>,
}

struct Entry<V> {
    value: Arc<V>,
    fresh_until_ms: u64,
    stale_until_ms: u64,
}

/// A load's outcome, as the callers that waited for it get it.
enum Outcome<V> {
    Loaded(Arc<V>),
    Failed { kind: ErrorKind, code: String, message: String },
}

impl<V> Clone for Outcome<V> {
    fn clone(&self) -> Self {
        match self {
            Outcome::Loaded(value) => Outcome::Loaded(value.clone()),
            Outcome::Failed { kind, code, message } => {
                Outcome::Failed { kind: *kind, code: code.clone(), message: message.clone() }
            }
        }
    }
}

impl<V> Outcome<V> {
    fn failed(err: &Error) -> Outcome<V> {
        Outcome::Failed { kind: err.kind(), code: err.code().to_owned(), message: err.message().to_owned() }
    }

    fn into_result(self) -> Result<Arc<V>, Error> {
        match self {
            Outcome::Loaded(value) => Ok(value),
            Outcome::Failed { kind, code, message } => Err(Error::new(kind, message).with_code(code)),
        }
    }
}

impl<V> Clone for Cache<V> {
    fn clone(&self) -> Self {
        Cache { shared: self.shared.clone() }
    }
}

impl<V> std::fmt::Debug for Cache<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let settings = &self.shared.settings;
        f.debug_struct("Cache")
            .field("name", &self.shared.name)
            .field("ttl", &settings.ttl)
            .field("stale_for", &settings.stale_for)
            .field("max_entries", &settings.max_entries)
            .field("entries", &self.len())
            .finish()
    }
}

/// The default time to live.
const DEFAULT_TTL: Duration = Duration::from_secs(60);
/// The default bound on entries.
const DEFAULT_MAX_ENTRIES: usize = 10_000;

impl<V> Cache<V> {
    /// Forgets `key` in this container; a load in flight for it is not
    /// stored. Other containers keep their copies until their time to
    /// live ends.
    pub fn invalidate(&self, key: &str) {
        let mut state = self.lock();
        state.values.remove(key);
        state.loads.remove(key);
    }

    /// How many values the cache holds.
    pub fn len(&self) -> usize {
        self.lock().values.len()
    }

    /// Whether the cache holds no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<V>> {
        crate::lock::lock(&self.shared.state)
    }
}

impl<V: Send + Sync + 'static> Cache<V> {
    /// A cache named `name` (in its log lines) whose values `loader` loads,
    /// given the key: 60 s time to live, no stale serving, at most 10,000
    /// entries, no weight bound. The loader's error reaches the caller
    /// through [`IntoError`], as a handler's does.
    pub fn new<F, Fut, E>(name: impl Into<String>, loader: F) -> Cache<V>
    where
        F: Fn(String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: IntoError,
    {
        let loader: Loader<V> = Arc::new(move |key| {
            let load = loader(key);
            Box::pin(async move { load.await.map_err(IntoError::into_error) })
        });
        let settings = Settings {
            ttl: DEFAULT_TTL,
            stale_for: Duration::ZERO,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_bytes: usize::MAX,
            weigher: None,
            clock: crate::platform::system_clock(),
        };
        Cache::with_settings(name.into(), loader, settings)
    }

    fn with_settings(name: String, loader: Loader<V>, settings: Settings<V>) -> Cache<V> {
        let values = Lru::new(settings.max_entries, settings.max_bytes);
        let state = Mutex::new(State { values, loads: HashMap::new() });
        Cache { shared: Arc::new(Shared { name, loader, settings, state }) }
    }

    /// A new, empty cache with this one's loader and `change` made to its
    /// settings.
    fn set(self, change: impl FnOnce(&mut Settings<V>)) -> Cache<V> {
        let mut settings = self.shared.settings.clone();
        change(&mut settings);
        Cache::with_settings(self.shared.name.clone(), self.shared.loader.clone(), settings)
    }

    /// How long a loaded value is served as fresh.
    #[must_use]
    pub fn ttl(self, ttl: Duration) -> Cache<V> {
        self.set(|s| s.ttl = ttl)
    }

    /// How long past its time to live a value is still served while one
    /// background load refreshes it (default: not at all). Needs a tokio
    /// runtime to refresh in; without one a stale value is reloaded by the
    /// caller.
    #[must_use]
    pub fn stale_for(self, stale_for: Duration) -> Cache<V> {
        self.set(|s| s.stale_for = stale_for)
    }

    /// The most values kept (at least 1).
    #[must_use]
    pub fn max_entries(self, max_entries: usize) -> Cache<V> {
        self.set(|s| s.max_entries = max_entries)
    }

    /// The most bytes kept, each value weighing what `weigher` says (for
    /// example a string's length); a value heavier than `max_bytes` alone
    /// is returned but not kept.
    #[must_use]
    pub fn max_bytes(self, max_bytes: usize, weigher: impl Fn(&V) -> usize + Send + Sync + 'static) -> Cache<V> {
        self.set(|s| {
            s.max_bytes = max_bytes;
            s.weigher = Some(Arc::new(weigher));
        })
    }

    /// Reads time from `clock` (tests).
    #[must_use]
    pub fn clock(self, clock: Arc<dyn Clock>) -> Cache<V> {
        self.set(|s| s.clock = clock)
    }

    /// Adds a tier shared by every container (a DynamoDB table): a miss in
    /// this container reads the tier before calling the loader, and a value
    /// the loader returns is written to the tier, so the fleet loads a key
    /// about once per tier TTL instead of once per container. See
    /// [`SharedTier`](super::SharedTier).
    #[cfg(feature = "dynamodb")]
    #[must_use]
    pub fn shared(self, tier: super::SharedTier) -> Cache<V>
    where
        V: serde::Serialize + serde::de::DeserializeOwned,
    {
        let (name, inner, clock) =
            (self.shared.name.clone(), self.shared.loader.clone(), self.shared.settings.clock.clone());
        let prefix = name.clone();
        let loader: Loader<V> = Arc::new(move |key: String| {
            let (tier, inner, clock) = (tier.clone(), inner.clone(), clock.clone());
            let shared_key = format!("{prefix}#{key}");
            Box::pin(async move {
                if let Some(value) = tier.read(&shared_key, clock.now_ms()).await {
                    return Ok(value);
                }
                let value = inner(key).await?;
                tier.write(&shared_key, &value, clock.now_ms()).await;
                Ok(value)
            })
        });
        Cache::with_settings(name, loader, self.shared.settings.clone())
    }

    /// The value of `key`: the cached one while fresh (or stale within
    /// [`stale_for`](Cache::stale_for)), else the loader's, loaded once for
    /// every concurrent caller.
    ///
    /// # Errors
    ///
    /// The loader's error, converted by [`IntoError`]; callers that waited
    /// for another's load get its kind, code and public message.
    pub async fn get(&self, key: &str) -> Result<Arc<V>, Error> {
        loop {
            let next = {
                let mut state = self.lock();
                let now_ms = self.shared.settings.clock.now_ms();
                if let Some(entry) = state.values.get(key) {
                    if now_ms < entry.fresh_until_ms {
                        return Ok(entry.value.clone());
                    }
                    if now_ms < entry.stale_until_ms {
                        let value = entry.value.clone();
                        if !state.loads.contains_key(key) {
                            self.refresh_in_background(&mut state, key);
                        }
                        if state.loads.contains_key(key) {
                            return Ok(value);
                        }
                    } else {
                        state.values.remove(key);
                    }
                }
                match state.loads.get(key) {
                    Some(waiting) => Next::Wait(waiting.clone()),
                    None => Next::Load(self.start_load(&mut state, key)),
                }
            };
            match next {
                Next::Load(load) => return load.run().await.into_result(),
                // Another caller is loading this key: wait for its outcome.
                // A load dropped before it finished (its caller was
                // cancelled) closes the channel; then one of the waiters
                // loads.
                Next::Wait(mut waiting) => {
                    if let Ok(outcome) = waiting.wait_for(Option::is_some).await
                        && let Some(outcome) = outcome.clone()
                    {
                        return outcome.into_result();
                    }
                }
            }
        }
    }

    /// Registers a load of `key` and returns it, to be run by the caller.
    fn start_load(&self, state: &mut State<V>, key: &str) -> Load<V> {
        let (sender, receiver) = watch::channel(None);
        state.loads.insert(key.to_owned(), receiver);
        Load { cache: self.clone(), key: key.to_owned(), sender }
    }

    /// Starts a background load of `key`, when a tokio runtime can run it.
    fn refresh_in_background(&self, state: &mut State<V>, key: &str) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        let load = self.start_load(state, key);
        let name = self.shared.name.clone();
        runtime.spawn(async move {
            if let Outcome::Failed { code, .. } = load.run().await {
                tracing::warn!(cache = %name, error_code = %code, "refreshing a stale cache value failed; it is served until it expires");
            }
        });
    }
}

/// What a read does after looking at the cache.
enum Next<V: Send + Sync + 'static> {
    Wait(watch::Receiver<Option<Outcome<V>>>),
    Load(Load<V>),
}

/// One load of one key. Dropped unfinished (its caller cancelled), it
/// leaves the key to the next caller.
struct Load<V: Send + Sync + 'static> {
    cache: Cache<V>,
    key: String,
    sender: watch::Sender<Option<Outcome<V>>>,
}

impl<V: Send + Sync + 'static> Load<V> {
    async fn run(self) -> Outcome<V> {
        let shared = &self.cache.shared;
        let outcome = match (shared.loader)(self.key.clone()).await {
            Ok(value) => Outcome::Loaded(Arc::new(value)),
            Err(err) => {
                tracing::debug!(cache = %shared.name, error_code = %err.code(), error_cause = %err.source_chain(), "a cache load failed");
                Outcome::failed(&err)
            }
        };
        {
            let mut state = self.cache.lock();
            // Stored only while this load is still the key's load: an
            // invalidation in between detached it.
            let current = state.loads.get(&self.key).is_some_and(|r| r.same_channel(&self.sender.subscribe()));
            if current {
                state.loads.remove(&self.key);
                if let Outcome::Loaded(value) = &outcome {
                    let settings = &shared.settings;
                    let now_ms = settings.clock.now_ms();
                    let fresh_until_ms = now_ms.saturating_add(settings.ttl.as_millis() as u64);
                    let entry = Entry {
                        value: value.clone(),
                        fresh_until_ms,
                        stale_until_ms: fresh_until_ms.saturating_add(settings.stale_for.as_millis() as u64),
                    };
                    let weight = settings.weigher.as_ref().map_or(0, |weigh| weigh(value));
                    state.values.insert(self.key.clone(), entry, weight);
                }
            }
        }
        self.sender.send_replace(Some(outcome.clone()));
        outcome
    }
}

impl<V: Send + Sync + 'static> Drop for Load<V> {
    fn drop(&mut self) {
        if self.sender.borrow().is_none() {
            let mut state = self.cache.lock();
            if state.loads.get(&self.key).is_some_and(|r| r.same_channel(&self.sender.subscribe())) {
                state.loads.remove(&self.key);
            }
        }
    }
}
