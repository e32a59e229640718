#![doc = include_str!("../../docs/idempotency.md")]

mod cache;
mod checks;
mod config;
pub(crate) use config::disabled_by_env;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod key;
mod memory;
mod record;
pub mod store;
mod store_trait;
mod token;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use cache::LocalCache;
pub use checks::{IdempotentError, IdempotentPayload, IdempotentResponse};
pub use config::{IdempotencyConfig, Replay, store_from_env};
#[cfg(feature = "dynamodb")]
pub use dynamodb::{AttributeNames, DynamoDbIdempotencyStore, table_spec};
pub use key::key_for;
use key::{hash_value, select_fields};
pub use memory::MemoryIdempotencyStore;
use store::{Claim, NotStored, Record, Status};
pub use store_trait::IdempotencyStore;
pub use token::{current_token, token_for};

use tracing::Instrument as _;

use crate::durable::StoreError;
use crate::durable::feature::FromEnv;
use crate::retry::{Backoff, retry};
use crate::{Ctx, Error, IntoError};
use config::STORE;

/// What happened to one call, as logged in `idempotency_outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The key was free: the function ran.
    Claimed,
    /// A record had expired, or an in-progress claim had passed its
    /// invocation's deadline: the function ran again.
    Expired,
    /// A completed result was returned; the function did not run.
    Replayed,
    /// A completed record holds no response that can be returned (it was
    /// not stored, or no longer deserializes): the call failed and the
    /// function did not run.
    Unreplayable,
    /// Another call holds the key; `AlreadyInProgress` was returned.
    InProgress,
    /// The validated fields differ from the stored call's.
    Mismatch,
    /// The key fields are absent: the function ran without idempotency.
    Skipped,
    /// Idempotency is turned off ([`IdempotencyConfig::enabled`], `HALO_IDEMPOTENCY_DISABLED`):
    /// the function ran without a store.
    Disabled,
    /// The store failed: the function did not run.
    StoreError,
}

impl Outcome {
    /// The logged name: `claimed`, `expired`, `replayed`, `unreplayable`,
    /// `in_progress`, `mismatch`, `skipped`, `disabled`, `store_error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Claimed => "claimed",
            Outcome::Expired => "expired",
            Outcome::Replayed => "replayed",
            Outcome::Unreplayable => "unreplayable",
            Outcome::InProgress => "in_progress",
            Outcome::Mismatch => "mismatch",
            Outcome::Skipped => "skipped",
            Outcome::Disabled => "disabled",
            Outcome::StoreError => "store_error",
        }
    }
}

/// The key of one payload and the hash of its validated fields.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Key {
    /// `<name>#<md5>`: the record's `id`.
    pub key: String,
    /// The md5 of the validated fields, when [`IdempotencyConfig::validate`] is set.
    pub validation: Option<String>,
}

impl Key {
    /// The downstream token of this key ([`token_for`]), what
    /// [`current_token`] returns inside the call.
    pub fn token(&self) -> String {
        token_for(&self.key)
    }
}

/// An idempotent function's settings, local cache and (optionally) store.
///
/// Create one per function and keep it (a `static`, or your init state):
/// the local cache lives in it. See the [module documentation](self).
pub struct Idempotency {
    config: IdempotencyConfig,
    cache: Option<LocalCache>,
    store: Option<Arc<dyn IdempotencyStore>>,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("config", &self.config)
            .field("cache", &self.cache.as_ref().map(LocalCache::capacity))
            .field("store", &self.store.is_some())
            .finish()
    }
}

/// What a claim decided.
enum Decision<R> {
    Run(Outcome),
    /// The stored response and its record.
    Replay(R, Record),
}

/// Why a claim did not decide.
enum Refusal {
    InProgress,
    Fail(Error),
}

impl Idempotency {
    /// An idempotent function with `config`, on the default store (see
    /// [`store_from_env`]) unless [`Idempotency::with_store`] sets one.
    pub fn new(config: IdempotencyConfig) -> Idempotency {
        let cache = (config.local_cache > 0).then(|| LocalCache::new(config.local_cache));
        Idempotency { config, cache, store: None }
    }

    /// Uses `store` instead of the default store.
    #[must_use]
    pub fn with_store(mut self, store: impl IdempotencyStore + 'static) -> Idempotency {
        self.store = Some(Arc::new(store));
        self
    }

    /// The key and validation hash of `payload`; `None` when the key fields
    /// are all absent or `null`.
    ///
    /// ```
    /// use halo::idempotency::{IdempotencyConfig, Idempotency};
    ///
    /// let charge = Idempotency::new(IdempotencyConfig::new("charge").key(["/body/id"]));
    /// let event = serde_json::json!({ "body": "{\"id\": \"p-1\"}" });
    /// let key = charge.key_of(&event).unwrap().unwrap();
    /// assert_eq!(key.key, halo::idempotency::key_for("charge", &serde_json::json!("p-1")));
    /// ```
    pub fn key_of<P: Serialize + ?Sized>(&self, payload: &P) -> Result<Option<Key>, Error> {
        let value = to_value(payload)?;
        Ok(self.key_of_value(&value))
    }

    fn key_of_value(&self, value: &Value) -> Option<Key> {
        let selected = select_fields(value, &self.config.key)?;
        let key = key_for(&self.config.name, &selected);
        let validation = if self.config.validate.is_empty() {
            None
        } else {
            let fields = select_fields(value, &self.config.validate).unwrap_or(Value::Null);
            Some(hash_value(&fields))
        };
        Some(Key { key, validation })
    }

    /// Runs `body` once for `payload`'s key and replays its result for
    /// duplicates, on this function's store.
    ///
    /// `ctx` gives the deadline that bounds the in-progress claim; `None`
    /// uses [`Ctx::current`], else [`IdempotencyConfig::in_progress_timeout`]. The
    /// response type must round-trip through JSON; the error type must
    /// convert from [`halo::Error`](Error) for idempotency's own errors.
    pub async fn run<P, R, E, Fut>(&self, payload: &P, ctx: Option<&Ctx>, body: Fut) -> Result<R, E>
    where
        P: Serialize + ?Sized,
        R: Serialize + DeserializeOwned,
        E: From<Error>,
        Fut: Future<Output = Result<R, E>>,
    {
        self.run_on(None, to_value(payload), ctx, body).await
    }

    /// [`Idempotency::run`] on `store` instead of the function's store.
    pub async fn run_with_store<P, R, E, Fut>(
        &self,
        store: &dyn IdempotencyStore,
        payload: &P,
        ctx: Option<&Ctx>,
        body: Fut,
    ) -> Result<R, E>
    where
        P: Serialize + ?Sized,
        R: Serialize + DeserializeOwned,
        E: From<Error>,
        Fut: Future<Output = Result<R, E>>,
    {
        self.run_on(Some(store), to_value(payload), ctx, body).await
    }

    /// Every way to run: turned off, the body alone; else on `store` (or
    /// the function's, or the default one) with `ctx` (or the current one).
    pub(crate) async fn run_on<R, E, Fut>(
        &self,
        store: Option<&dyn IdempotencyStore>,
        payload: Result<Value, Error>,
        ctx: Option<&Ctx>,
        body: Fut,
    ) -> Result<R, E>
    where
        R: Serialize + DeserializeOwned,
        E: From<Error>,
        Fut: Future<Output = Result<R, E>>,
    {
        if !self.config.enabled {
            log(&self.config.name, Outcome::Disabled);
            return body.await;
        }
        let payload = payload?;
        let current;
        let ctx = match ctx {
            Some(ctx) => Some(ctx),
            None => {
                current = Ctx::current();
                current.as_ref()
            }
        };
        let owned;
        let store = match (store, &self.store) {
            (Some(store), _) => store,
            (None, Some(store)) => &**store,
            (None, None) => {
                owned = default_store().await?;
                &*owned
            }
        };
        self.run_value(store, &payload, ctx, body).await
    }

    async fn run_value<R, E, Fut>(
        &self,
        store: &dyn IdempotencyStore,
        payload: &Value,
        ctx: Option<&Ctx>,
        body: Fut,
    ) -> Result<R, E>
    where
        R: Serialize + DeserializeOwned,
        E: From<Error>,
        Fut: Future<Output = Result<R, E>>,
    {
        let Some(key) = self.key_of_value(payload) else {
            if self.config.required {
                tracing::warn!(idempotency_name = %self.config.name, idempotency_outcome = "missing_key", "idempotency key missing");
                return Err(Error::bad_request("the idempotency key is missing from the request")
                    .with_code("IdempotencyKeyMissing")
                    .into());
            }
            log(&self.config.name, Outcome::Skipped);
            return body.await;
        };

        let now_ms = self.config.now_ms();
        if let Some(cache) = &self.cache
            && let Some(record) = cache.get_record(&key.key, key.validation.as_deref(), now_ms)
            && let Some(data) = &record.data
            && let Ok(response) = serde_json::from_str::<R>(data)
        {
            tracing::info!(idempotency_key = %key.key, idempotency_outcome = Outcome::Replayed.as_str(), cache = true, "idempotency");
            count(&self.config.name, Outcome::Replayed);
            return self.replayed(response, &record, true).map_err(E::from);
        }

        let deadline_ms = ctx.map_or_else(
            || now_ms.saturating_add(self.config.in_progress_timeout.as_millis() as u64),
            Ctx::deadline_epoch_ms,
        );
        let mut claim = Record::in_progress(&key.key, self.expiration(now_ms), deadline_ms, key.validation.clone());
        // Every invocation of a durable execution runs the handler from the
        // top: the claim of each is the execution's, so a replay finds its
        // own claim and runs on, while another execution (a true duplicate)
        // is refused or replayed as usual.
        if let Some(arn) = ctx.and_then(Ctx::durable_execution_arn) {
            claim.owner = Some(key::md5_hex(format!("durable-execution:{arn}").as_bytes()));
        }
        let outcome = match self.config.wait {
            None => self.attempt::<R>(store, &claim).await,
            Some(wait) => {
                let mut until = Instant::now() + wait;
                if let Some(ctx) = ctx {
                    until = until.min(ctx.deadline());
                }
                let policy = Backoff::new(u32::MAX)
                    .initial_delay(Duration::from_millis(10))
                    .max_delay(Duration::from_millis(200))
                    .deadline(until);
                retry(&policy, |_| self.attempt::<R>(store, &claim), |refusal| matches!(refusal, Refusal::InProgress))
                    .await
                    .result
            }
        };
        match outcome {
            Ok(Decision::Replay(response, record)) => self.replayed(response, &record, false).map_err(E::from),
            Ok(Decision::Run(outcome)) => {
                log(&key.key, outcome);
                self.execute(store, &claim, ctx, body).await
            }
            Err(Refusal::InProgress) => {
                log(&key.key, Outcome::InProgress);
                Err(Error::conflict("this request is already being processed; retry later")
                    .with_code("AlreadyInProgress")
                    .into())
            }
            Err(Refusal::Fail(err)) => Err(err.into()),
        }
    }

    /// Claims the key once; decides to run, to replay, or refuses.
    async fn attempt<R: DeserializeOwned>(
        &self,
        store: &dyn IdempotencyStore,
        claim: &Record,
    ) -> Result<Decision<R>, Refusal> {
        let span = crate::trace::span!(
            "idempotency.claim",
            idempotency.name = %self.config.name,
            idempotency.key = %claim.key,
        );
        let existing = match store.claim(claim, self.config.now_ms()).instrument(span).await {
            Ok(Claim::Claimed { previous }) => {
                let outcome = if previous.is_some() { Outcome::Expired } else { Outcome::Claimed };
                return Ok(Decision::Run(outcome));
            }
            // This call's own claim, written by an attempt whose answer was
            // lost (the SDK retried it): the key is this call's.
            Ok(Claim::Held(existing)) if existing.is_own_claim_of(claim) => {
                tracing::debug!(idempotency_key = %claim.key, "idempotency: the claim's retried write found the call's own record");
                return Ok(Decision::Run(Outcome::Claimed));
            }
            Ok(Claim::Held(existing)) => existing,
            Err(err) => return Err(Refusal::Fail(store_failure(&claim.key, err))),
        };
        if claim.validation.is_some() && existing.validation != claim.validation {
            log(&claim.key, Outcome::Mismatch);
            return Err(Refusal::Fail(
                Error::unprocessable("this idempotency key was already used with a different payload; use a new key")
                    .with_code("PayloadMismatch"),
            ));
        }
        match existing.status {
            Status::InProgress => Err(Refusal::InProgress),
            Status::Completed => match stored_response::<R>(&existing) {
                Ok(response) => {
                    log(&claim.key, Outcome::Replayed);
                    if let Some(cache) = &self.cache {
                        cache.put(&existing);
                    }
                    Ok(Decision::Replay(response, existing))
                }
                Err(err) => {
                    log(&claim.key, Outcome::Unreplayable);
                    Err(Refusal::Fail(err))
                }
            },
        }
    }

    /// Runs the body after a claim (with its [`current_token`]), then
    /// completes the record, or releases it if the body failed.
    async fn execute<R, E, Fut>(
        &self,
        store: &dyn IdempotencyStore,
        claim: &Record,
        ctx: Option<&Ctx>,
        body: Fut,
    ) -> Result<R, E>
    where
        R: Serialize,
        E: From<Error>,
        Fut: Future<Output = Result<R, E>>,
    {
        let response = match token::scope(token_for(&claim.key), body).await {
            Ok(response) => response,
            Err(err) => {
                self.release(store, &claim.key, ctx).await;
                return Err(err);
            }
        };
        // From here on the function has run: whatever fails, the key must
        // not become runnable again before the record expires.
        let expiration = self.expiration(self.config.now_ms());
        let completed = match serde_json::to_string(&response) {
            Ok(data) if data.len() <= self.config.max_response_bytes => claim.completed(data, expiration),
            Ok(data) => {
                tracing::error!(idempotency_key = %claim.key, response_bytes = data.len(), limit_bytes = self.config.max_response_bytes, "idempotency: the response is too large to store; this call returns it, duplicates fail with IdempotencyResponseTooLarge and the function is not run again");
                claim.not_stored(NotStored::TooLarge, expiration)
            }
            Err(err) => {
                tracing::error!(idempotency_key = %claim.key, error_cause = %err, "idempotency: the response does not serialize; this call returns it, duplicates fail with IdempotencyResponseNotSerializable and the function is not run again");
                claim.not_stored(NotStored::NotSerializable, expiration)
            }
        };
        let policy = write_policy(ctx);
        let span = crate::trace::span!(
            "idempotency.complete",
            idempotency.name = %self.config.name,
            idempotency.key = %claim.key,
        );
        match retry(&policy, |_| store.complete(&completed), |_| true).instrument(span).await.result {
            Ok(()) => {
                if let Some(cache) = &self.cache {
                    cache.put(&completed);
                }
                Ok(response)
            }
            Err(err) => {
                let err = err.of(&STORE);
                tracing::error!(idempotency_key = %claim.key, idempotency_outcome = Outcome::StoreError.as_str(), error_cause = %crate::error::Chain(&err), "idempotency: the function ran but its result could not be stored; the record stays INPROGRESS until the call's deadline");
                Err(Error::unavailable("the request was processed but its result could not be recorded; retry later")
                    .with_code("IdempotencyResultNotStored")
                    .with_source(err)
                    .into())
            }
        }
    }

    /// Deletes the claim after the body failed, so a retry runs again;
    /// retried as completing is ([`write_policy`]). A release that still
    /// fails leaves the claim, which frees the key at the call's deadline.
    async fn release(&self, store: &dyn IdempotencyStore, key: &str, ctx: Option<&Ctx>) {
        if let Some(cache) = &self.cache {
            cache.remove(key);
        }
        if let Err(err) = retry(&write_policy(ctx), |_| store.delete(key), |_| true).await.result {
            let err = err.of(&STORE);
            tracing::error!(idempotency_key = %key, error_cause = %crate::error::Chain(&err), "idempotency: could not release the record after a failure; it blocks until the call's deadline");
        }
    }

    /// Deletes the record of `key` from this function's store and local
    /// cache, so the next call with that key runs again.
    pub async fn evict(&self, key: &str) -> Result<(), StoreError> {
        if let Some(cache) = &self.cache {
            cache.remove(key);
        }
        let store = match &self.store {
            Some(store) => Arc::clone(store),
            None => store_from_env().await?,
        };
        store.delete(key).await
    }

    /// Passes a replayed response through [`IdempotencyConfig::on_replay`], if set.
    fn replayed<R: DeserializeOwned>(&self, response: R, record: &Record, from_cache: bool) -> Result<R, Error> {
        let (Some(hook), Some(data)) = (&self.config.on_replay, &record.data) else {
            return Ok(response);
        };
        let replay = Replay { key: &record.key, expires_at: record.expiration, from_cache };
        let stored: Value = serde_json::from_str(data).map_err(Error::internal)?;
        serde_json::from_value(hook(stored, &replay)).map_err(|err| {
            tracing::error!(idempotency_key = %record.key, error_cause = %err, "idempotency: the on_replay hook returned a response of another shape");
            Error::internal(err).with_code("IdempotencyReplayHook")
        })
    }

    fn expiration(&self, now_ms: u64) -> u64 {
        (now_ms / 1000).saturating_add(self.config.expires_after.as_secs())
    }
}

/// How often a record is completed or released before the call gives up.
const WRITE_ATTEMPTS: u32 = 3;

/// The retries of the writes after the body ran (complete, release):
/// [`WRITE_ATTEMPTS`] with backoff, never past the call's budget.
fn write_policy(ctx: Option<&Ctx>) -> Backoff {
    let policy =
        Backoff::new(WRITE_ATTEMPTS).initial_delay(Duration::from_millis(50)).max_delay(Duration::from_millis(500));
    match ctx {
        Some(ctx) => policy.deadline(ctx.budget_deadline()),
        None => policy,
    }
}

/// The response a completed record holds, or the stable error of a
/// record whose response cannot be returned.
fn stored_response<R: DeserializeOwned>(record: &Record) -> Result<R, Error> {
    if let Some(reason) = record.not_stored {
        return Err(
            Error::internal(format!("the first call's response was not stored ({reason})")).with_code(reason.code())
        );
    }
    let unreadable = |cause: String| {
        tracing::error!(idempotency_key = %record.key, error_cause = %cause, "idempotency: the stored response cannot be returned; the function is not run again (evict the key to run it)");
        Error::internal(cause).with_code("IdempotencyStoredResponseUnreadable")
    };
    match &record.data {
        Some(data) => serde_json::from_str(data)
            .map_err(|err| unreadable(format!("the stored response no longer deserializes: {err}"))),
        None => Err(unreadable("the completed record has no response".to_owned())),
    }
}

/// Logs `outcome` of the call with `key` (`<name>#<md5>`, or the name
/// alone when there is no key) and counts it in the builtin metrics.
fn log(key: &str, outcome: Outcome) {
    count(key.rsplit_once('#').map_or(key, |(name, _)| name), outcome);
    match outcome {
        // A call without a key (the key is optional unless `required`) is
        // an expected outcome, logged like the others; these are not.
        Outcome::Mismatch | Outcome::Disabled | Outcome::Unreplayable => {
            tracing::warn!(idempotency_key = %key, idempotency_outcome = outcome.as_str(), "idempotency");
        }
        _ => tracing::info!(idempotency_key = %key, idempotency_outcome = outcome.as_str(), "idempotency"),
    }
}

/// Counts the outcomes an operator sets alarms on
/// ([`crate::metrics::builtin`]).
fn count(name: &str, outcome: Outcome) {
    use crate::metrics::builtin;
    let metric = match outcome {
        Outcome::Claimed | Outcome::Expired => builtin::IDEMPOTENCY_CLAIMED,
        Outcome::Replayed => builtin::IDEMPOTENCY_REPLAYED,
        Outcome::InProgress => builtin::IDEMPOTENCY_IN_PROGRESS,
        Outcome::Mismatch => builtin::IDEMPOTENCY_MISMATCH,
        _ => return,
    };
    builtin::count(metric, Some(name));
}

fn store_failure(key: &str, err: StoreError) -> Error {
    let err = err.of(&STORE);
    tracing::warn!(idempotency_key = %key, idempotency_outcome = Outcome::StoreError.as_str(), error_cause = %crate::error::Chain(&err), "idempotency");
    unavailable(err)
}

fn unavailable(err: StoreError) -> Error {
    err.of(&STORE).into_error()
}

pub(crate) fn to_value<P: Serialize + ?Sized>(payload: &P) -> Result<Value, Error> {
    serde_json::to_value(payload).map_err(|err| Error::internal(err).with_code("IdempotencyKey"))
}

pub(crate) static DEFAULT_STORE: FromEnv<Arc<dyn IdempotencyStore>> = FromEnv::new(&STORE);

/// Sets the store used by idempotent functions that name none. Returns
/// `false` if a default store was already set (or resolved).
///
/// ```
/// halo::idempotency::set_default_store(halo::idempotency::MemoryIdempotencyStore::new());
/// ```
pub fn set_default_store(store: impl IdempotencyStore + 'static) -> bool {
    DEFAULT_STORE.set(Arc::new(store))
}

/// Resolves the default store now ([`store_from_env`], once per process).
///
/// Call it from your handler's init function so that a missing table
/// inside Lambda fails the container's init with a clear message instead
/// of failing each invocation:
///
/// ```no_run
/// struct State;
///
/// async fn init() -> Result<State, halo::durable::StoreError> {
///     halo::idempotency::init().await?;
///     Ok(State)
/// }
/// ```
pub async fn init() -> Result<(), StoreError> {
    store_from_env().await.map(|_| ())
}

async fn default_store() -> Result<Arc<dyn IdempotencyStore>, Error> {
    match store_from_env().await {
        Ok(store) => Ok(store),
        Err(err) => {
            let err = err.of(&STORE);
            tracing::error!(error_cause = %crate::error::Chain(&err), "idempotency: no store");
            Err(unavailable(err))
        }
    }
}
