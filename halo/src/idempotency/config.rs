//! [`IdempotencyConfig`]: what makes two invocations "the same" and how long that lasts,
//! and the default store chosen from the environment.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::IdempotencyStore;
use crate::durable::feature::{EnvStore, Feature, TooLarge};
use crate::durable::{Fallback, StoreError};
use crate::platform::{Clock, system_clock};

/// The environment variable naming the DynamoDB table of the default store.
pub(crate) const TABLE_ENV: &str = "HALO_IDEMPOTENCY_TABLE";

/// The environment variable that turns idempotency off (`true` or `1`):
/// every idempotent function runs its body without a store, logging
/// outcome `disabled`. For local experiments, like Powertools'
/// `POWERTOOLS_IDEMPOTENCY_DISABLED`; never set it on a deployed function.
pub(crate) const DISABLED_ENV: &str = "HALO_IDEMPOTENCY_DISABLED";

/// DynamoDB's item size limit (400 KB).
pub(crate) const ITEM_LIMIT_BYTES: usize = 400 * 1024;

/// Settings of one idempotent function.
///
/// ```
/// use std::time::Duration;
/// use halo::idempotency::IdempotencyConfig;
///
/// let config = IdempotencyConfig::new("charge")
///     .key(["/body/payment_id"])
///     .validate(["/body/amount"])
///     .expires_after(Duration::from_secs(24 * 3600))
///     .wait(Duration::from_secs(5))
///     .local_cache(1_000);
/// assert!(format!("{config:?}").contains("charge"));
/// ```
#[derive(Clone)]
pub struct IdempotencyConfig {
    pub(crate) name: String,
    pub(crate) key: Vec<String>,
    pub(crate) validate: Vec<String>,
    pub(crate) required: bool,
    pub(crate) expires_after: Duration,
    pub(crate) wait: Option<Duration>,
    pub(crate) local_cache: usize,
    pub(crate) in_progress_timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) on_replay: Option<ReplayHook>,
    pub(crate) enabled: bool,
}

/// What a [`IdempotencyConfig::on_replay`] hook learns about a replayed call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Replay<'a> {
    /// The record's key (`<name>#<md5>`).
    pub key: &'a str,
    /// When the stored response stops being replayed (epoch seconds).
    pub expires_at: u64,
    /// Served by this container's local cache, without a store request.
    pub from_cache: bool,
}

/// A hook that adjusts a replayed response (see [`IdempotencyConfig::on_replay`]).
pub(crate) type ReplayHook = Arc<dyn Fn(Value, &Replay<'_>) -> Value + Send + Sync>;

impl std::fmt::Debug for IdempotencyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdempotencyConfig")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("validate", &self.validate)
            .field("required", &self.required)
            .field("expires_after", &self.expires_after)
            .field("wait", &self.wait)
            .field("local_cache", &self.local_cache)
            .field("in_progress_timeout", &self.in_progress_timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("on_replay", &self.on_replay.is_some())
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl IdempotencyConfig {
    /// Settings for the function named `name`, the key prefix. Choose a
    /// stable name: it is part of every stored key, so renaming it (not
    /// moving the function between modules) starts afresh.
    ///
    /// Defaults: the whole payload is the key, no validation, a missing key
    /// skips idempotency with a warning, records live 1 hour, a concurrent
    /// duplicate fails at once with `AlreadyInProgress`, no local cache.
    pub fn new(name: impl Into<String>) -> IdempotencyConfig {
        IdempotencyConfig {
            name: name.into(),
            key: Vec::new(),
            validate: Vec::new(),
            required: false,
            expires_after: Duration::from_secs(3600),
            wait: None,
            local_cache: 0,
            in_progress_timeout: Duration::from_secs(15 * 60),
            max_response_bytes: ITEM_LIMIT_BYTES - 4 * 1024,
            clock: system_clock(),
            on_replay: None,
            enabled: !disabled_by_env(),
        }
    }

    /// The key is made of the fields at these JSON pointers (one or more:
    /// a composite key) instead of the whole payload. A pointer that goes
    /// through a string holding JSON (an API Gateway `body`) reads inside it.
    #[must_use]
    pub fn key<I: IntoIterator<Item = S>, S: Into<String>>(mut self, pointers: I) -> IdempotencyConfig {
        self.key = pointers.into_iter().map(Into::into).collect();
        self
    }

    /// A replay must carry the same values at these JSON pointers as the
    /// first call, or it is rejected with `PayloadMismatch` (422).
    #[must_use]
    pub fn validate<I: IntoIterator<Item = S>, S: Into<String>>(mut self, pointers: I) -> IdempotencyConfig {
        self.validate = pointers.into_iter().map(Into::into).collect();
        self
    }

    /// With `true`, a payload whose key fields are all absent or `null`
    /// fails with `IdempotencyKeyMissing` (400) instead of running without
    /// idempotency.
    #[must_use]
    pub fn required(mut self, required: bool) -> IdempotencyConfig {
        self.required = required;
        self
    }

    /// How long a completed result is replayed (default 1 hour; whole
    /// seconds).
    #[must_use]
    pub fn expires_after(mut self, ttl: Duration) -> IdempotencyConfig {
        self.expires_after = ttl;
        self
    }

    /// A concurrent duplicate waits up to `wait` (polling with backoff, never
    /// past its own deadline) for the first invocation's result instead of
    /// failing at once with `AlreadyInProgress`.
    #[must_use]
    pub fn wait(mut self, wait: Duration) -> IdempotencyConfig {
        self.wait = Some(wait);
        self
    }

    /// Keeps up to `entries` completed results in this container and replays
    /// them without a store request (0, the default, turns it off).
    #[must_use]
    pub fn local_cache(mut self, entries: usize) -> IdempotencyConfig {
        self.local_cache = entries;
        self
    }

    /// How long an in-progress claim holds its key when no Lambda context
    /// gives a deadline (default 15 minutes, Lambda's longest timeout).
    /// Inside an invocation the claim lasts until the invocation's deadline.
    #[must_use]
    pub fn in_progress_timeout(mut self, timeout: Duration) -> IdempotencyConfig {
        self.in_progress_timeout = timeout;
        self
    }

    /// The largest serialized response that is stored (default 396 KB, to
    /// fit DynamoDB's 400 KB item limit with the other attributes). A larger
    /// response is returned to its call but not stored: the record completes
    /// with a marker instead, so duplicates fail with
    /// `IdempotencyResponseTooLarge` (500) and the function never runs twice.
    #[must_use]
    pub fn max_response_bytes(mut self, bytes: usize) -> IdempotencyConfig {
        self.max_response_bytes = bytes;
        self
    }

    /// Replaces the clock (any [`Clock`], e.g. a
    /// [`ManualClock`](crate::platform::ManualClock) or a closure returning
    /// epoch milliseconds), to test expiry without waiting.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let now = Arc::new(AtomicU64::new(1_700_000_000_000));
    /// let clock = now.clone();
    /// let config = halo::idempotency::IdempotencyConfig::new("t").clock(Arc::new(move || clock.load(Ordering::SeqCst)));
    /// now.fetch_add(3_600_000, Ordering::SeqCst); // an hour later, instantly
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> IdempotencyConfig {
        self.clock = clock;
        self
    }

    /// Adjusts every replayed response before it is returned (Powertools'
    /// `response_hook`), for example to tell the client that it gets a
    /// stored answer. The hook sees the stored response as JSON and what is
    /// known of the record; the stored record itself is never changed, and
    /// the first call's response does not pass through the hook. A hook
    /// whose result no longer deserializes into the function's response
    /// type fails the call with `IdempotencyReplayHook` (500); the function
    /// is not run again.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use halo::idempotency::{IdempotencyConfig, Idempotency, MemoryIdempotencyStore};
    /// use serde_json::{Value, json};
    ///
    /// let config = IdempotencyConfig::new("charge").key(["/payment_id"]).on_replay(|mut response, _replay| {
    ///     response["headers"]["idempotent-replayed"] = json!("true");
    ///     response
    /// });
    /// let charge = Idempotency::new(config).with_store(MemoryIdempotencyStore::new());
    /// let event = json!({ "payment_id": "p-1" });
    /// let answer = || async { Ok::<_, halo::Error>(json!({ "statusCode": 201, "headers": {} })) };
    ///
    /// let first: Value = charge.run(&event, None, answer()).await.unwrap();
    /// let again: Value = charge.run(&event, None, answer()).await.unwrap();
    /// assert_eq!(first["headers"], json!({}));
    /// assert_eq!(again["headers"]["idempotent-replayed"], "true");
    /// # });
    /// ```
    #[must_use]
    pub fn on_replay(
        mut self,
        hook: impl Fn(Value, &Replay<'_>) -> Value + Send + Sync + 'static,
    ) -> IdempotencyConfig {
        self.on_replay = Some(Arc::new(hook));
        self
    }

    /// Turns idempotency on or off for this function (default: on, unless
    /// `HALO_IDEMPOTENCY_DISABLED` says otherwise). Off, the body runs on every call
    /// and no store is used.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use halo::idempotency::{IdempotencyConfig, Idempotency, MemoryIdempotencyStore};
    ///
    /// let off = Idempotency::new(IdempotencyConfig::new("charge").enabled(false)).with_store(MemoryIdempotencyStore::new());
    /// let event = serde_json::json!({ "payment_id": "p-1" });
    /// let first: u32 = off.run(&event, None, async { Ok::<_, halo::Error>(1) }).await.unwrap();
    /// let again: u32 = off.run(&event, None, async { Ok::<_, halo::Error>(2) }).await.unwrap();
    /// assert_eq!((first, again), (1, 2), "both bodies ran");
    /// # });
    /// ```
    #[must_use]
    pub fn enabled(mut self, enabled: bool) -> IdempotencyConfig {
        self.enabled = enabled;
        self
    }

    /// Now, by this configuration's clock (epoch milliseconds).
    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }
}

/// Whether [`DISABLED_ENV`] turns idempotency off.
pub(crate) fn disabled_by_env() -> bool {
    disabled_by(std::env::var(DISABLED_ENV).ok().as_deref())
}

/// Whether a value of [`DISABLED_ENV`] turns idempotency off.
fn disabled_by(value: Option<&str>) -> bool {
    matches!(value.map(str::trim), Some(v) if v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Builds the store the environment asks for, by halo's one store rule
/// ([`crate::durable::choose_store`]):
///
/// - `HALO_IDEMPOTENCY_TABLE` set: a [`DynamoDbIdempotencyStore`](super::DynamoDbIdempotencyStore)
///   on that table (with the container's shared DynamoDB client);
/// - otherwise, inside Lambda: an error naming the variable, because an
///   in-memory store there would not be shared by containers;
/// - otherwise (a local run): a [`MemoryIdempotencyStore`](super::MemoryIdempotencyStore).
///
/// It is the container's one default store: the first call builds it (or
/// takes the one [`set_default_store`](super::set_default_store) set), every
/// later call returns the same instance, so calling it in a handler never
/// makes a fresh in-memory store per invocation.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let first = halo::idempotency::store_from_env().await.unwrap();
/// let again = halo::idempotency::store_from_env().await.unwrap();
/// assert!(std::sync::Arc::ptr_eq(&first, &again));
/// # });
/// ```
pub async fn store_from_env() -> Result<Arc<dyn IdempotencyStore>, StoreError> {
    super::DEFAULT_STORE.get().await
}

/// The idempotency feature's store, described once.
pub(crate) static STORE: Feature = Feature {
    name: "idempotency",
    store: "idempotency store",
    variable: TABLE_ENV,
    fallback: Fallback::InitError,
    code: "IdempotencyStore",
    unavailable: "the idempotency store is unavailable; retry later",
    too_large: TooLarge {
        unprocessable: false,
        code: "IdempotencyRecordTooLarge",
        message: "the idempotency record is too large to store",
    },
};

impl EnvStore for Arc<dyn IdempotencyStore> {
    #[cfg(feature = "dynamodb")]
    fn dynamodb(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Arc::new(super::DynamoDbIdempotencyStore::new(client, table))
    }

    fn memory() -> Self {
        Arc::new(super::MemoryIdempotencyStore::new())
    }
}

#[cfg(test)]
mod tests {
    use super::disabled_by;

    #[test]
    fn only_true_or_1_disables() {
        for off in ["true", "TRUE", " 1 ", "True"] {
            assert!(disabled_by(Some(off)), "{off:?}");
        }
        for on in [None, Some(""), Some("0"), Some("false"), Some("yes please")] {
            assert!(!disabled_by(on), "{on:?}");
        }
    }
}
