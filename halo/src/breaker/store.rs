//! What a breaker store implements: the [`BreakerStore`] trait and the
//! record it keeps. Service authors pick a store
//! ([`MemoryBreakerStore`](super::MemoryBreakerStore),
//! [`CircuitBreaker::from_env`](super::CircuitBreaker::from_env)); they need nothing here.

use super::state::BreakerState;
use crate::durable::{StoreError, forward_store};
use crate::future::BoxFuture;

/// A breaker's shared record: one item per breaker.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SharedState {
    /// The breaker's name.
    pub name: String,
    /// Its state.
    pub state: BreakerState,
    /// Until when it is open (epoch ms).
    pub open_until_ms: u64,
    /// Consecutive trips without a close (drives the open-time backoff).
    pub trips: u32,
    /// Bumped by every transition; writes are conditional on it.
    pub version: u64,
    /// Probe slots leased in the current half-open period.
    pub probes: u32,
    /// Probes that succeeded in the current half-open period, fleet-wide.
    pub successes: u32,
    /// The token of the breaker (one per breaker per container) that wrote
    /// this version: a transition whose answer was lost, and that was sent
    /// again, finds its own write and is not taken for another
    /// container's.
    pub writer: String,
}

impl SharedState {
    /// The record of breaker `name` in `state` at `version`, never tripped,
    /// with no probe leased and no writer; a store reading its records sets
    /// the other fields after.
    pub fn new(name: impl Into<String>, state: BreakerState, version: u64) -> SharedState {
        SharedState {
            name: name.into(),
            state,
            open_until_ms: 0,
            trips: 0,
            version,
            probes: 0,
            successes: 0,
            writer: String::new(),
        }
    }
}

/// Shared breaker state: [`DynamoDbBreakerStore`](super::DynamoDbBreakerStore)
/// in Lambda, [`MemoryBreakerStore`](super::MemoryBreakerStore) for tests
/// and local runs. Writes are conditional, so concurrent containers agree:
/// exactly one wins a transition, the others adopt it.
pub trait BreakerStore: Send + Sync {
    /// The record of `name`, read consistently.
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<SharedState>, StoreError>>;

    /// Writes `next` if the stored version is `next.version - 1`, or there
    /// is no record (a new breaker, or a store that lost its data: the
    /// container's state is the best there is). `Ok(false)`: someone else
    /// wrote first; nothing changed. A stored record of `next`'s version and
    /// writer is this write's own earlier attempt: `Ok(true)`.
    fn publish<'a>(&'a self, next: &'a SharedState) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Leases one probe slot of the half-open period `version` of `name` if
    /// fewer than `max` are leased. `Ok(false)`: none left (or the state
    /// moved on).
    fn lease_probe<'a>(&'a self, name: &'a str, version: u64, max: u32) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Counts one successful probe of the half-open period `version` of
    /// `name` and returns the fleet-wide count, so probes run by different
    /// containers add up to the policy's successes to close. `Ok(None)`:
    /// the state moved on (or the store does not count; the default), and
    /// each container then closes on its own probes only.
    fn count_probe_success<'a>(
        &'a self,
        name: &'a str,
        version: u64,
    ) -> BoxFuture<'a, Result<Option<u32>, StoreError>> {
        let _ = (name, version);
        Box::pin(async { Ok(None) })
    }
}

forward_store!(BreakerStore {
    fn load<'a>(&'a self, name: &'a str) -> BoxFuture<'a, Result<Option<SharedState>, StoreError>>;
    fn publish<'a>(&'a self, next: &'a SharedState) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn lease_probe<'a>(&'a self, name: &'a str, version: u64, max: u32) -> BoxFuture<'a, Result<bool, StoreError>>;
    fn count_probe_success<'a>(&'a self, name: &'a str, version: u64) -> BoxFuture<'a, Result<Option<u32>, StoreError>>;
});
