//! What the saga behaviours run: a trip saga (hotel, flight, rental) of
//! [`Booking`] steps against a simulated downstream, the [`World`], and a
//! log wrapper that counts writes and crashes at one of them
//! ([`CrashLog`]). Public so tests of your own can run the same sagas.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use halo::durable::StoreError;
use halo::retry::Backoff;
use halo::saga::log::{SagaLog, SagaRecord};
use halo::saga::{Saga, SagaError, Step, StepCtx, StepOptions};
use halo::{BoxFuture, Ctx};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// The saga state: the trip and the bookings made so far (their
/// idempotency tokens).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trip {
    /// The trip's id (the saga id in the behaviours).
    pub id: String,
    /// The idempotency token of every booking made, in order.
    pub bookings: Vec<String>,
}

/// A trip with no booking yet.
pub fn trip(id: &str) -> Trip {
    Trip { id: id.into(), bookings: Vec::new() }
}

/// The downstream services: effects are keyed by the idempotency token, so
/// a repeated call with the same token changes nothing (as a real service).
/// Tests steer it (failures, gates, hangs) and read what happened.
#[derive(Default)]
pub struct World {
    /// Every call, in order: `book:hotel`, `cancel:flight`,
    /// `cancel-unknown:flight` (a compensation given no output), …
    pub calls: Mutex<Vec<String>>,
    /// Token → how many times the booking took effect.
    pub booked: Mutex<HashMap<String, u32>>,
    /// Token → how many times the cancellation took effect.
    pub cancelled: Mutex<HashMap<String, u32>>,
    /// Step → failures left (`u32::MAX`: always).
    pub fail_step: Mutex<HashMap<String, u32>>,
    /// Compensation → failures left (`u32::MAX`: always).
    pub fail_comp: Mutex<HashMap<String, u32>>,
    /// Steps that wait for this before doing anything.
    pub gate: Mutex<HashMap<String, Arc<Notify>>>,
    /// Steps that, once they booked, hang until this is notified (the
    /// process dies, or its lease runs out, inside the step).
    pub hang: Mutex<HashMap<String, Arc<Notify>>>,
    /// Notified when a hanging step has booked.
    pub acted: Notify,
    /// Every call with the idempotency token it saw: (`book:hotel`, token).
    pub tokens: Mutex<Vec<(String, String)>>,
}

/// Takes one failure of `name` from `map`: whether the call fails.
fn take_failure(map: &Mutex<HashMap<String, u32>>, name: &str) -> bool {
    let mut map = map.lock().unwrap();
    match map.get_mut(name) {
        Some(0) | None => false,
        Some(n) => {
            if *n != u32::MAX {
                *n -= 1;
            }
            true
        }
    }
}

impl World {
    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// Makes step `name` fail its next `times` runs (`u32::MAX`: always; 0:
    /// never again).
    pub fn fail_step(&self, name: &str, times: u32) {
        self.fail_step.lock().unwrap().insert(name.into(), times);
    }

    /// Makes the compensation of step `name` fail its next `times` runs.
    pub fn fail_comp(&self, name: &str, times: u32) {
        self.fail_comp.lock().unwrap().insert(name.into(), times);
    }

    /// How many times the booking with `token` took effect.
    pub fn booked(&self, token: &str) -> u32 {
        self.booked.lock().unwrap().get(token).copied().unwrap_or(0)
    }

    /// How many times the cancellation of the booking with `token` took
    /// effect.
    pub fn cancelled(&self, token: &str) -> u32 {
        self.cancelled.lock().unwrap().get(token).copied().unwrap_or(0)
    }

    /// How many calls were exactly `call` (`book:hotel`).
    pub fn count(&self, call: &str) -> usize {
        self.calls().iter().filter(|c| *c == call).count()
    }

    /// The tokens the calls `call` saw, in order.
    pub fn tokens_of(&self, call: &str) -> Vec<String> {
        self.tokens.lock().unwrap().iter().filter(|(c, _)| c == call).map(|(_, t)| t.clone()).collect()
    }

    /// Makes `step` hang once it booked; returns what releases it.
    pub fn hang_after_booking(&self, step: &str) -> Arc<Notify> {
        let release = Arc::new(Notify::new());
        self.hang.lock().unwrap().insert(step.into(), release.clone());
        release
    }
}

/// A booking step against the [`World`]: books with the step's idempotency
/// token, and its compensation cancels by that token.
pub struct Booking {
    /// The step's name (`hotel`).
    pub name: &'static str,
    /// The downstream.
    pub world: Arc<World>,
    /// Whether a failed run may still have booked (the step's
    /// `side_effects` option): a failing run then books before it fails.
    pub side_effects: bool,
    /// The time the step needs (its `budget` option).
    pub budget: Duration,
}

impl Step for Booking {
    type Input = Trip;
    type Output = Trip;
    type Error = halo::Error;

    fn name(&self) -> &str {
        self.name
    }

    async fn run(&self, ctx: &StepCtx, mut trip: Trip) -> Result<Trip, halo::Error> {
        let gate = self.world.gate.lock().unwrap().get(self.name).cloned();
        if let Some(gate) = gate {
            gate.notified().await;
        }
        self.world.calls.lock().unwrap().push(format!("book:{}", self.name));
        let token = ctx.idempotency_token();
        self.world.tokens.lock().unwrap().push((format!("book:{}", self.name), token.clone()));
        let fails = take_failure(&self.world.fail_step, self.name);
        if !fails || self.side_effects {
            let mut booked = self.world.booked.lock().unwrap();
            booked.entry(token.clone()).or_insert(1);
        }
        let hang = self.world.hang.lock().unwrap().remove(self.name);
        if let Some(release) = hang {
            self.world.acted.notify_one();
            release.notified().await;
        }
        if fails {
            return Err(halo::Error::conflict("unavailable").with_code("Unavailable"));
        }
        trip.bookings.push(token);
        Ok(trip)
    }

    fn has_compensation(&self) -> bool {
        true
    }

    async fn compensate(&self, ctx: &StepCtx, _trip: Trip, output: Option<Trip>) -> Result<(), halo::Error> {
        let label = if output.is_some() { "cancel" } else { "cancel-unknown" };
        self.world.calls.lock().unwrap().push(format!("{label}:{}", self.name));
        self.world.tokens.lock().unwrap().push((format!("{label}:{}", self.name), ctx.idempotency_token()));
        if take_failure(&self.world.fail_comp, self.name) {
            return Err(halo::Error::upstream("cancel failed").with_code("CancelFailed"));
        }
        let token = ctx.idempotency_token();
        if self.world.booked.lock().unwrap().contains_key(&token) {
            self.world.cancelled.lock().unwrap().entry(token).or_insert(1);
        }
        Ok(())
    }

    fn options(&self) -> StepOptions {
        StepOptions::default()
            .compensation_retry(Backoff::new(3).initial_delay(Duration::from_millis(1)))
            .side_effects(self.side_effects)
            .budget(self.budget)
    }
}

/// The steps of [`trip_saga`], in order.
pub const STEPS: [&str; 3] = ["hotel", "flight", "rental"];

/// A booking step `name` without side effects on failure, with a 100 ms
/// budget.
pub fn booking(world: &Arc<World>, name: &'static str) -> Booking {
    Booking { name, world: world.clone(), side_effects: false, budget: Duration::from_millis(100) }
}

/// The saga `trip`: hotel, flight, rental.
pub fn trip_saga(world: &Arc<World>) -> Saga<Trip, Trip> {
    Saga::<Trip>::new("trip")
        .step(booking(world, "hotel"))
        .step(booking(world, "flight"))
        .step(booking(world, "rental"))
}

/// A long-lived (600 s) invocation context with this request id.
pub fn ctx(request_id: &str) -> Ctx {
    Ctx::builder(request_id).timeout(Duration::from_secs(600)).build()
}

/// Runs `fut` inside [`ctx`]`(request_id)`.
pub async fn in_ctx<T>(request_id: &str, fut: impl Future<Output = T>) -> T {
    ctx(request_id).scope(fut).await
}

/// The idempotency token of `step` in saga `id` (what
/// [`StepCtx::idempotency_token`] gives).
pub fn token(id: &str, step: &str) -> String {
    format!("{id}/{step}")
}

/// How the crash happens around the write it targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crash {
    /// Write number `k` (0-based) never reaches the store: the action
    /// before it ran, its record did not.
    BeforeWrite(usize),
    /// Write number `k` is stored, then the process dies before the next
    /// action.
    AfterWrite(usize),
}

/// A log that counts writes and can crash at one of them: the crashing
/// write (and every later one) never answers, as in a process that died.
pub struct CrashLog {
    /// The log written to.
    pub inner: Arc<dyn SagaLog>,
    /// Where to crash, if anywhere.
    pub crash: Option<Crash>,
    /// Writes attempted so far.
    pub writes: AtomicUsize,
    /// Notified when the crash happens.
    pub crashed: Arc<Notify>,
}

impl CrashLog {
    /// A wrapper of `inner` that crashes as `crash` says (never for `None`).
    pub fn new(inner: Arc<dyn SagaLog>, crash: Option<Crash>) -> CrashLog {
        CrashLog { inner, crash, writes: AtomicUsize::new(0), crashed: Arc::new(Notify::new()) }
    }

    /// Writes attempted so far.
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }
}

impl SagaLog for CrashLog {
    fn load<'a>(&'a self, saga_id: &'a str) -> BoxFuture<'a, Result<Option<SagaRecord>, StoreError>> {
        self.inner.load(saga_id)
    }

    fn write<'a>(&'a self, record: &'a SagaRecord) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let k = self.writes.fetch_add(1, Ordering::SeqCst);
            match self.crash {
                Some(Crash::BeforeWrite(n)) if k >= n => {
                    self.crashed.notify_one();
                    std::future::pending::<()>().await;
                    unreachable!()
                }
                Some(Crash::AfterWrite(n)) if k >= n => {
                    if k == n {
                        self.inner.write(record).await?;
                    }
                    self.crashed.notify_one();
                    std::future::pending::<()>().await;
                    unreachable!()
                }
                _ => self.inner.write(record).await,
            }
        })
    }

    fn stalled<'a>(&'a self, before: u64, limit: usize) -> BoxFuture<'a, Result<Vec<SagaRecord>, StoreError>> {
        self.inner.stalled(before, limit)
    }
}

/// Runs `saga` on saga `id` until it finishes or `log` crashes (the run is
/// then dropped, as a killed process). `None` on a crash.
pub async fn run_until_crash(
    saga: &Saga<Trip, Trip>,
    log: &CrashLog,
    id: &str,
    request_id: &str,
) -> Option<Result<Trip, SagaError>> {
    let crashed = log.crashed.clone();
    let run = in_ctx(request_id, saga.run(log, id, trip(id)));
    tokio::select! {
        result = run => Some(result),
        () = crashed.notified() => None,
    }
}
