//! [`CircuitBreaker`]: the call path (no I/O) and the background sync.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tracing::Instrument as _;

use super::policy::BreakerPolicy;
use super::state::{Admission, BreakerState, Machine, Transition, half_open_deadline};
use super::store::{BreakerStore, SharedState};
use crate::durable::StoreError;
use crate::platform::{Clock, system_clock};
use crate::{Error, IntoError};

/// A circuit breaker guarding calls to one downstream.
///
/// Cheap to clone (one `Arc`); build it once per container (in init) and
/// share it. See the [module docs](super) for the states and the policy.
#[derive(Clone)]
pub struct CircuitBreaker {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    policy: BreakerPolicy,
    machine: Mutex<Machine>,
    store: Option<Arc<dyn BreakerStore>>,
    /// This breaker's token in the records it writes.
    writer: String,
    clock: Arc<dyn Clock>,
    /// A local transition not yet published to the store.
    pending: AtomicBool,
    degraded: AtomicBool,
    degraded_logged_at_ms: AtomicU64,
    background: AtomicBool,
    refresher_started: AtomicBool,
}

impl std::fmt::Debug for CircuitBreaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("name", &self.inner.name)
            .field("state", &self.state())
            .field("shared", &self.inner.store.is_some())
            .finish_non_exhaustive()
    }
}

impl CircuitBreaker {
    /// A breaker whose state lives in this container only.
    pub fn new(name: impl Into<String>, policy: BreakerPolicy) -> CircuitBreaker {
        CircuitBreaker::build(name.into(), policy, None)
    }

    /// A breaker whose state is shared through `store` by every container
    /// of the fleet (read in the background every
    /// [`BreakerPolicy::refresh_every`], never on the call path).
    pub fn shared(name: impl Into<String>, policy: BreakerPolicy, store: Arc<dyn BreakerStore>) -> CircuitBreaker {
        CircuitBreaker::build(name.into(), policy, Some(store))
    }

    fn build(name: String, policy: BreakerPolicy, store: Option<Arc<dyn BreakerStore>>) -> CircuitBreaker {
        let local_only = store.is_none();
        CircuitBreaker {
            inner: Arc::new(Inner {
                name,
                policy,
                machine: Mutex::new(Machine::new(local_only)),
                store,
                writer: uuid::Uuid::new_v4().simple().to_string(),
                clock: system_clock(),
                pending: AtomicBool::new(false),
                degraded: AtomicBool::new(false),
                degraded_logged_at_ms: AtomicU64::new(0),
                background: AtomicBool::new(true),
                refresher_started: AtomicBool::new(false),
            }),
        }
    }

    /// Uses `clock` instead of the system clock (tests move time with a
    /// [`ManualClock`](crate::platform::ManualClock)).
    #[must_use]
    pub fn clock(self, clock: Arc<dyn Clock>) -> CircuitBreaker {
        let inner = Arc::try_unwrap(self.inner).unwrap_or_else(|_| panic!("clock is for a breaker being built"));
        CircuitBreaker { inner: Arc::new(Inner { clock, ..inner }) }
    }

    /// Does not start the background refresh: call [`sync`](Self::sync)
    /// yourself (tests, or a scheduler of your own).
    #[must_use]
    pub fn without_background_refresh(self) -> CircuitBreaker {
        self.inner.background.store(false, Ordering::SeqCst);
        self
    }

    /// The breaker's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Its state in this container.
    pub fn state(&self) -> BreakerState {
        self.machine().state
    }

    /// Whether the shared store was unreachable at the last sync (the
    /// breaker then runs on its local state).
    pub fn is_degraded(&self) -> bool {
        self.inner.degraded.load(Ordering::SeqCst)
    }

    fn machine(&self) -> MutexGuard<'_, Machine> {
        crate::lock::lock(&self.inner.machine)
    }

    /// Runs `call` through the breaker.
    ///
    /// Open: fails at once with `CircuitOpen` (503, `Retry-After`), without
    /// running `call` and without any I/O. Otherwise runs it and counts
    /// its outcome with the policy's classifier.
    pub async fn call<T, E, Fut>(&self, call: Fut) -> Result<T, Error>
    where
        Fut: Future<Output = Result<T, E>>,
        E: IntoError,
    {
        let span =
            crate::trace::span!("breaker.call", breaker.name = %self.inner.name, breaker.state = self.state().as_str());
        self.guarded(call).instrument(span).await
    }

    async fn guarded<T, E, Fut>(&self, call: Fut) -> Result<T, Error>
    where
        Fut: Future<Output = Result<T, E>>,
        E: IntoError,
    {
        let admission = self.admit()?;
        self.start_refresher();
        // If this future is dropped mid-call, the guard frees a probe slot.
        let mut in_flight = InFlight { breaker: self, admission: Some(admission) };
        let result = call.await.map_err(IntoError::into_error);
        in_flight.admission = None;
        let failed = result.as_ref().err().filter(|err| (self.inner.policy.classifier)(err));
        if let Some(err) = failed {
            // The status and code only: never a body or an internal cause.
            tracing::warn!(breaker = %self.inner.name, status = err.status(), code = err.code(), "circuit breaker counted a failure");
        }
        let failed = failed.is_some();
        let now = self.inner.clock.now_ms();
        let transition = self.machine().record(admission, failed, now, &self.inner.policy);
        if let Some(transition) = transition {
            self.on_transition(&transition);
        }
        result
    }

    /// Whether `err` counts against the downstream: the policy's classifier,
    /// or the breaker's own `CircuitOpen` refusal. A fallback runs for
    /// these, not for the caller's own mistakes (4xx).
    pub fn is_failure(&self, err: &Error) -> bool {
        err.code() == "CircuitOpen" || (self.inner.policy.classifier)(err)
    }

    /// Whether a call may run now; the error a caller gets when not.
    ///
    /// [`CircuitBreaker::call`] is the way to run a call: an admission
    /// taken here and never followed by a call holds its probe slot (in
    /// half-open) until the half-open period ends
    /// ([`BreakerPolicy::half_open_timeout`](super::BreakerPolicy::half_open_timeout)).
    pub fn admit(&self) -> Result<Admission, Error> {
        let now = self.inner.clock.now_ms();
        let (admission, transition) = self.machine().admit(now, &self.inner.policy);
        if let Some(transition) = transition {
            self.on_transition(&transition);
        }
        match admission {
            Admission::Rejected { retry_after } => {
                crate::metrics::builtin::count(crate::metrics::builtin::BREAKER_REJECTED, Some(&self.inner.name));
                if crate::trace::enabled() {
                    crate::trace::add_event("breaker.rejected", &[("breaker.name", self.inner.name.clone())]);
                }
                Err(Error::unavailable(format!("the {} service is unavailable; retry later", self.inner.name))
                    .with_code("CircuitOpen")
                    .with_retry_after(retry_after))
            }
            admitted => Ok(admitted),
        }
    }

    fn on_transition(&self, transition: &Transition) {
        tracing::warn!(
            breaker = %self.inner.name,
            from = transition.from.as_str(),
            to = transition.to.as_str(),
            reason = transition.reason,
            "circuit breaker transition"
        );
        // A transition adopted from the shared state was counted by the
        // container that made it.
        if transition.reason != "shared state" {
            count_transition(&self.inner.name, transition);
        }
        if self.inner.store.is_some() && transition.reason != "shared state" {
            self.inner.pending.store(true, Ordering::SeqCst);
        }
    }

    /// One refresh with the shared store: publishes a local transition
    /// (conditionally on the version: exactly one container wins, the
    /// others adopt its state), adopts the shared state, moves an expired
    /// open state to half-open and leases probe slots. The background task
    /// calls this every refresh interval; it never runs on the call path.
    ///
    /// With the store unreachable the breaker keeps working on its local
    /// state (logged once per interval) and reconciles when it is back.
    pub async fn sync(&self) -> Result<(), StoreError> {
        let Some(store) = self.inner.store.clone() else { return Ok(()) };
        match self.sync_with(store.as_ref()).await {
            Ok(()) => {
                if self.inner.degraded.swap(false, Ordering::SeqCst) {
                    self.machine().set_local_only(false);
                    tracing::info!(breaker = %self.inner.name, "breaker store reachable again: state reconciled");
                }
                Ok(())
            }
            Err(err) => {
                let now = self.inner.clock.now_ms();
                let first = !self.inner.degraded.swap(true, Ordering::SeqCst);
                self.machine().set_local_only(true);
                let last = self.inner.degraded_logged_at_ms.load(Ordering::SeqCst);
                if first || now.saturating_sub(last) >= self.inner.policy.refresh.as_millis() as u64 {
                    self.inner.degraded_logged_at_ms.store(now, Ordering::SeqCst);
                    tracing::warn!(breaker = %self.inner.name, error_cause = %crate::error::Chain(&err), "breaker store unreachable: using local state");
                }
                Err(err)
            }
        }
    }

    async fn sync_with(&self, store: &dyn BreakerStore) -> Result<(), StoreError> {
        let name = self.inner.name.as_str();
        let policy = &self.inner.policy;
        self.report_probe_successes(store).await?;
        if self.inner.pending.swap(false, Ordering::SeqCst) {
            let next = self.snapshot(1);
            match store.publish(&next).await {
                Ok(true) => self.machine().version = next.version,
                Ok(false) => {} // another container won: adopt below
                Err(err) => {
                    self.inner.pending.store(true, Ordering::SeqCst);
                    return Err(err);
                }
            }
        }
        let shared = store.load(name).await?;
        if let Some(shared) = &shared {
            let adopted = {
                let mut machine = self.machine();
                (shared.version > machine.version)
                    .then(|| machine.adopt(shared.state, shared.open_until_ms, shared.trips, shared.version))
                    .flatten()
            };
            if let Some(transition) = adopted {
                self.on_transition(&transition);
            }
        }
        // An open period that is over, or a half-open period that ended
        // undecided (its probe slots leased by containers that never ran
        // them): one container moves the fleet to a new half-open period.
        let now = self.inner.clock.now_ms();
        let expired = {
            let machine = self.machine();
            let period_over = now >= machine.open_until_ms;
            match machine.state {
                BreakerState::Open if period_over => Some("open time over"),
                BreakerState::HalfOpen if period_over => Some("probe period over"),
                _ => None,
            }
        };
        if let Some(reason) = expired {
            let mut next = self.snapshot(1);
            next.state = BreakerState::HalfOpen;
            next.open_until_ms = half_open_deadline(now, policy);
            if store.publish(&next).await? {
                let transition = {
                    let mut machine = self.machine();
                    machine.version = next.version;
                    machine.enter_half_open(now, policy, 0, reason)
                };
                tracing::warn!(breaker = %name, from = transition.from.as_str(), to = transition.to.as_str(), reason = transition.reason, "circuit breaker transition");
                count_transition(name, &transition);
            } else if let Some(shared) = store.load(name).await? {
                let transition = self.machine().adopt(shared.state, shared.open_until_ms, shared.trips, shared.version);
                if let Some(transition) = transition {
                    self.on_transition(&transition);
                }
            }
        }
        // Half-open: lease a probe slot for this container, within the
        // fleet-wide limit.
        let (half_open, version, permits) = {
            let machine = self.machine();
            (machine.state == BreakerState::HalfOpen, machine.version, machine.probe_permits)
        };
        if half_open && permits == 0 && store.lease_probe(name, version, policy.probes).await? {
            let mut machine = self.machine();
            if machine.state == BreakerState::HalfOpen && machine.version == version {
                machine.probe_permits += 1;
            }
        }
        Ok(())
    }

    /// Adds this container's successful probes to the fleet-wide count of
    /// the half-open period; closes (to be published) once it reaches the
    /// policy's threshold.
    async fn report_probe_successes(&self, store: &dyn BreakerStore) -> Result<(), StoreError> {
        let (unreported, version) = {
            let mut machine = self.machine();
            let unreported = std::mem::take(&mut machine.unreported_successes);
            (if machine.state == BreakerState::HalfOpen { unreported } else { 0 }, machine.version)
        };
        for reported in 0..unreported {
            match store.count_probe_success(&self.inner.name, version).await {
                Ok(Some(count)) if count >= self.inner.policy.close_after => {
                    let transition = self.machine().close_by_fleet(version);
                    if let Some(transition) = transition {
                        self.on_transition(&transition);
                    }
                    return Ok(());
                }
                Ok(Some(_)) => {}
                Ok(None) => return Ok(()), // the period is over
                Err(err) => {
                    let mut machine = self.machine();
                    if machine.state == BreakerState::HalfOpen && machine.version == version {
                        machine.unreported_successes += unreported - reported;
                    }
                    return Err(err);
                }
            }
        }
        Ok(())
    }

    /// The local state as the next shared record (`version + bump`).
    fn snapshot(&self, bump: u64) -> SharedState {
        let machine = self.machine();
        SharedState {
            name: self.inner.name.clone(),
            state: machine.state,
            open_until_ms: machine.open_until_ms,
            trips: machine.trips,
            version: machine.version + bump,
            probes: 0,
            successes: 0,
            writer: self.inner.writer.clone(),
        }
    }

    /// Starts the background refresh once, when shared and inside a tokio
    /// runtime.
    fn start_refresher(&self) {
        if self.inner.store.is_none()
            || !self.inner.background.load(Ordering::Relaxed)
            || self.inner.refresher_started.load(Ordering::Relaxed)
            || self.inner.refresher_started.swap(true, Ordering::SeqCst)
        {
            return;
        }
        let Ok(handle) = tokio::runtime::Handle::try_current() else { return };
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let interval = self.inner.policy.refresh;
        handle.spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                let Some(inner) = weak.upgrade() else { break };
                let _ = CircuitBreaker { inner }.sync().await;
            }
        });
    }
}

/// A call in flight: if its future is dropped before the call finishes, a
/// probe slot it held is freed.
struct InFlight<'a> {
    breaker: &'a CircuitBreaker,
    admission: Option<Admission>,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Some(admission) = self.admission.take() {
            self.breaker.machine().abandon(admission);
        }
    }
}

/// Counts a state change in the builtin metrics ([`crate::metrics::builtin`]).
fn count_transition(name: &str, transition: &Transition) {
    use crate::metrics::builtin;
    let metric = match transition.to {
        BreakerState::Open => builtin::BREAKER_OPENED,
        BreakerState::HalfOpen => builtin::BREAKER_HALF_OPENED,
        BreakerState::Closed => builtin::BREAKER_CLOSED,
    };
    builtin::count(metric, Some(name));
}
