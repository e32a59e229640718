//! Saga behaviours shared by the memory-log and the DynamoDB-log (moto)
//! tests: every test takes a fresh, empty log.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use halo::retry::Backoff;
use halo::saga::{
    ActionState, LogError, RecoverOptions, Saga, SagaError, SagaLog, SagaRecord, SagaStatus, Step, StepCtx,
    StepOptions, recover,
};
use halo::{BoxFuture, Ctx};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

pub type Log = Arc<dyn SagaLog>;

/// The saga state: the trip and the bookings made so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trip {
    pub id: String,
    pub bookings: Vec<String>,
}

pub fn trip(id: &str) -> Trip {
    Trip { id: id.into(), bookings: Vec::new() }
}

/// Downstream services: effects are keyed by the idempotency token, so a
/// repeated call with the same token changes nothing (as a real service).
#[derive(Default)]
pub struct World {
    /// Every call, in order: `book:hotel`, `cancel:flight`, …
    pub calls: Mutex<Vec<String>>,
    /// Token → how many times the booking took effect.
    pub booked: Mutex<HashMap<String, u32>>,
    /// Token → how many times the cancellation took effect.
    pub cancelled: Mutex<HashMap<String, u32>>,
    /// Step → failures left (u32::MAX: always).
    pub fail_step: Mutex<HashMap<String, u32>>,
    /// Compensation → failures left.
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
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    pub fn fail_step(&self, name: &str, times: u32) {
        self.fail_step.lock().unwrap().insert(name.into(), times);
    }
    pub fn fail_comp(&self, name: &str, times: u32) {
        self.fail_comp.lock().unwrap().insert(name.into(), times);
    }
    pub fn booked(&self, token: &str) -> u32 {
        self.booked.lock().unwrap().get(token).copied().unwrap_or(0)
    }
    pub fn cancelled(&self, token: &str) -> u32 {
        self.cancelled.lock().unwrap().get(token).copied().unwrap_or(0)
    }
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

/// A booking step against the world.
pub struct Booking {
    pub name: &'static str,
    pub world: Arc<World>,
    pub side_effects: bool,
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

pub const STEPS: [&str; 3] = ["hotel", "flight", "rental"];

pub fn booking(world: &Arc<World>, name: &'static str) -> Booking {
    Booking { name, world: world.clone(), side_effects: false, budget: Duration::from_millis(100) }
}

pub fn trip_saga(world: &Arc<World>) -> Saga<Trip, Trip> {
    Saga::<Trip>::new("trip")
        .step(booking(world, "hotel"))
        .step(booking(world, "flight"))
        .step(booking(world, "rental"))
}

/// A long-lived invocation context with this request id.
pub fn ctx(request_id: &str) -> Ctx {
    Ctx::builder(request_id).timeout(Duration::from_secs(600)).build()
}

pub async fn in_ctx<T>(request_id: &str, fut: impl Future<Output = T>) -> T {
    ctx(request_id).scope(fut).await
}

/// A clock the test moves.
#[derive(Debug)]
pub struct ManualClock(pub AtomicU64);

impl ManualClock {
    pub fn at(ms: u64) -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicU64::new(ms)))
    }
    pub fn now() -> Arc<ManualClock> {
        ManualClock::at(halo::platform::Clock::now_ms(&halo::platform::SystemClock))
    }
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(by.as_millis() as u64, Ordering::SeqCst);
    }
}

impl halo::platform::Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// How the crash happens around the write it targets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crash {
    /// Write number `k` (0-based) fails before reaching the store: the
    /// action before it ran, its record did not.
    BeforeWrite(usize),
    /// Write number `k` is stored, then the process dies before the next
    /// action.
    AfterWrite(usize),
}

/// A log that counts writes and can crash at one of them.
pub struct CrashLog {
    pub inner: Log,
    pub crash: Option<Crash>,
    pub writes: AtomicUsize,
    pub crashed: Arc<Notify>,
}

impl CrashLog {
    pub fn new(inner: Log, crash: Option<Crash>) -> CrashLog {
        CrashLog { inner, crash, writes: AtomicUsize::new(0), crashed: Arc::new(Notify::new()) }
    }
    pub fn writes(&self) -> usize {
        self.writes.load(Ordering::SeqCst)
    }
}

impl SagaLog for CrashLog {
    fn load<'a>(&'a self, saga_id: &'a str) -> BoxFuture<'a, Result<Option<SagaRecord>, LogError>> {
        self.inner.load(saga_id)
    }

    fn write<'a>(&'a self, record: &'a SagaRecord) -> BoxFuture<'a, Result<(), LogError>> {
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

    fn stalled<'a>(&'a self, before: u64, limit: usize) -> BoxFuture<'a, Result<Vec<SagaRecord>, LogError>> {
        self.inner.stalled(before, limit)
    }
}

/// Runs `saga` until it finishes or the log crashes (the run is dropped,
/// as a killed process). Returns `None` on a crash.
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

pub fn token(id: &str, step: &str) -> String {
    format!("{id}/{step}")
}

fn assert_rolled_back(result: Result<Trip, SagaError>, step: &str) {
    match result {
        Err(SagaError::RolledBack { failed_step, cause, .. }) => {
            assert_eq!(failed_step, step);
            assert_eq!(cause.code, "Unavailable");
        }
        other => panic!("expected RolledBack at {step}, got {other:?}"),
    }
}

// ---------------------------------------------------------------- behaviours

pub async fn success(log: Log) {
    let world = Arc::new(World::default());
    let counting = CrashLog::new(log.clone(), None);
    let out = in_ctx("r1", trip_saga(&world).run(&counting, "s-ok", trip("s-ok"))).await.unwrap();
    assert_eq!(out.bookings, vec![token("s-ok", "hotel"), token("s-ok", "flight"), token("s-ok", "rental")]);
    assert_eq!(world.calls(), vec!["book:hotel", "book:flight", "book:rental"]);
    assert_eq!(counting.writes(), 3 + 1, "N + 1 writes for N steps");
    let record = log.load("s-ok").await.unwrap().unwrap();
    assert_eq!(record.status, SagaStatus::Committed);
    assert!(record.lease.is_none(), "the lease is released at the end");
    // Again: the recorded outcome, no step runs.
    let again = in_ctx("r2", trip_saga(&world).run(&*log, "s-ok", trip("s-ok"))).await.unwrap();
    assert_eq!(again, out);
    assert_eq!(world.calls().len(), 3);
}

pub async fn failure_at_each_step(log: Log) {
    let expected: [&[&str]; 3] = [&[], &["cancel:hotel"], &["cancel:flight", "cancel:hotel"]];
    for (i, step) in STEPS.iter().enumerate() {
        let world = Arc::new(World::default());
        world.fail_step(step, u32::MAX);
        let id = format!("s-fail-{step}");
        let counting = CrashLog::new(log.clone(), None);
        let result = in_ctx("r1", trip_saga(&world).run(&counting, &id, trip(&id))).await;
        assert_rolled_back(result, step);
        let compensations: Vec<String> = world.calls().into_iter().filter(|c| c.starts_with("cancel")).collect();
        assert_eq!(compensations, expected[i], "failure at {step}");
        assert_eq!(counting.writes(), 2 * (i + 1), "2k writes for a failure at step k");
        let record = log.load(&id).await.unwrap().unwrap();
        assert_eq!(record.status, SagaStatus::RolledBack);
        // The recorded outcome comes back without running anything.
        let calls = world.calls().len();
        assert_rolled_back(in_ctx("r2", trip_saga(&world).run(&*log, &id, trip(&id))).await, step);
        assert_eq!(world.calls().len(), calls);
    }
}

pub async fn failed_step_with_side_effects_is_compensated(log: Log) {
    let world = Arc::new(World::default());
    world.fail_step("flight", u32::MAX);
    let mut flight = booking(&world, "flight");
    flight.side_effects = true;
    let saga = Saga::<Trip>::new("trip").step(booking(&world, "hotel")).step(flight).step(booking(&world, "rental"));
    let result = in_ctx("r1", saga.run(&*log, "s-side", trip("s-side"))).await;
    assert_rolled_back(result, "flight");
    assert_eq!(world.calls(), vec!["book:hotel", "book:flight", "cancel-unknown:flight", "cancel:hotel"]);
    assert_eq!(world.cancelled(&token("s-side", "flight")), 1);
}

pub async fn compensation_retried(log: Log) {
    let world = Arc::new(World::default());
    world.fail_step("rental", u32::MAX);
    world.fail_comp("hotel", 1);
    let result = in_ctx("r1", trip_saga(&world).run(&*log, "s-retry", trip("s-retry"))).await;
    assert_rolled_back(result, "rental");
    assert_eq!(world.count("cancel:hotel"), 2, "failed once, retried");
    assert_eq!(world.cancelled(&token("s-retry", "hotel")), 1);
    assert_eq!(world.cancelled(&token("s-retry", "flight")), 1);
}

pub async fn compensation_always_fails(log: Log) {
    let world = Arc::new(World::default());
    world.fail_step("rental", u32::MAX);
    world.fail_comp("flight", u32::MAX);
    let result = in_ctx("r1", trip_saga(&world).run(&*log, "s-cf", trip("s-cf"))).await;
    match result {
        Err(SagaError::CompensationFailed { failed_step, cause, failed_compensations, .. }) => {
            assert_eq!(failed_step, "rental");
            assert_eq!(cause.code, "Unavailable");
            assert_eq!(failed_compensations.len(), 1);
            assert_eq!(failed_compensations[0].name, "flight");
            assert_eq!(failed_compensations[0].error.code, "CancelFailed");
        }
        other => panic!("expected CompensationFailed, got {other:?}"),
    }
    assert_eq!(world.count("cancel:flight"), 3, "all attempts used");
    assert_eq!(world.cancelled(&token("s-cf", "hotel")), 1, "the other compensation still ran");
    let record = log.load("s-cf").await.unwrap().unwrap();
    assert_eq!(record.status, SagaStatus::CompensationFailed);
    assert_eq!(record.compensations[0].state, ActionState::Failed);
    assert_eq!(record.compensations[1].state, ActionState::Done);
}

/// Crashes at every write of a run, resumes with a fresh executor, and
/// checks the outcome and the effects.
pub async fn crash_at_every_transition(make_log: impl Fn() -> BoxFuture<'static, Log>, rollback: bool) {
    let total = if rollback { 6 } else { 4 };
    for k in 0..total {
        for crash in [Crash::BeforeWrite(k), Crash::AfterWrite(k)] {
            let log = make_log().await;
            let world = Arc::new(World::default());
            if rollback {
                world.fail_step("rental", u32::MAX);
            }
            let id = format!("crash-{rollback}-{k}-{}", matches!(crash, Crash::AfterWrite(_)));
            let crashing = CrashLog::new(log.clone(), Some(crash));
            let first = run_until_crash(&trip_saga(&world), &crashing, &id, "first").await;
            assert!(first.is_none(), "{crash:?}: the run must crash");

            // A fresh executor, later than the crashed run's lease.
            let clock = ManualClock::now();
            clock.advance(Duration::from_secs(3600));
            let saga = trip_saga(&world).with_clock(clock);
            let result = in_ctx("second", saga.run(&*log, &id, trip(&id))).await;
            let what = format!("{crash:?} rollback={rollback}");
            if rollback {
                assert_rolled_back(result, "rental");
                for step in ["hotel", "flight"] {
                    assert_eq!(world.booked(&token(&id, step)), 1, "{what}: {step} booked once");
                    assert_eq!(world.cancelled(&token(&id, step)), 1, "{what}: {step} cancelled exactly once");
                }
                assert_eq!(world.booked(&token(&id, "rental")), 0, "{what}");
            } else {
                let out = result.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                assert_eq!(out.bookings.len(), 3, "{what}");
                for step in STEPS {
                    assert_eq!(world.booked(&token(&id, step)), 1, "{what}: {step} booked once");
                    assert_eq!(world.cancelled(&token(&id, step)), 0, "{what}");
                }
            }
            // Completed steps are never re-run: each step is called at most
            // twice (once interrupted, once resumed), and only the one the
            // crash interrupted twice.
            let calls = world.calls();
            let repeated: Vec<&str> = STEPS
                .iter()
                .copied()
                .filter(|s| calls.iter().filter(|c| **c == format!("book:{s}")).count() > 1)
                .collect();
            assert!(repeated.len() <= 1, "{what}: {calls:?}");
            let record = log.load(&id).await.unwrap().unwrap();
            assert!(record.status.is_final(), "{what}");
            assert!(record.lease.is_none(), "{what}");
        }
    }
}

pub async fn concurrent_runs(log: Log) {
    let world = Arc::new(World::default());
    let gate = Arc::new(Notify::new());
    world.gate.lock().unwrap().insert("flight".into(), gate.clone());
    let clock = ManualClock::now();
    let saga = trip_saga(&world).with_clock(clock.clone());
    // Run A holds the lease inside `flight`; its deadline is 10 s away.
    let ctx_a = Ctx::builder("run-a").timeout(Duration::from_secs(10)).build();
    let a_deadline = ctx_a.deadline_epoch_ms();
    let a = tokio::spawn({
        let (saga, log) = (saga.clone(), log.clone());
        ctx_a.scope(async move { saga.run(&*log, "s-conc", trip("s-conc")).await })
    });
    while world.count("book:hotel") == 0
        || log.load("s-conc").await.unwrap().unwrap().steps[1].state != ActionState::Started
    {
        tokio::task::yield_now().await;
    }
    let b = in_ctx("run-b", saga.run(&*log, "s-conc", trip("s-conc"))).await;
    assert!(matches!(b, Err(SagaError::InProgress { .. })), "{b:?}");
    assert!(b.unwrap_err().is_retryable());
    gate.notify_one();
    let a = a.await.unwrap().unwrap();
    assert_eq!(a.bookings.len(), 3);
    assert_eq!(world.count("book:flight"), 1);

    // A run that died holding the lease blocks others until its deadline.
    let world = Arc::new(World::default());
    world.gate.lock().unwrap().insert("flight".into(), Arc::new(Notify::new()));
    let saga = trip_saga(&world).with_clock(clock.clone());
    let dead = tokio::spawn({
        let (saga, log) = (saga.clone(), log.clone());
        Ctx::builder("run-dead")
            .deadline_epoch_ms(a_deadline)
            .build()
            .scope(async move { saga.run(&*log, "s-lease", trip("s-lease")).await })
    });
    while world.count("book:hotel") == 0
        || log.load("s-lease").await.unwrap().unwrap().steps[1].state != ActionState::Started
    {
        tokio::task::yield_now().await;
    }
    dead.abort();
    let _ = dead.await;
    world.gate.lock().unwrap().clear();
    let before = in_ctx("run-c", saga.run(&*log, "s-lease", trip("s-lease"))).await;
    assert!(matches!(before, Err(SagaError::InProgress { .. })), "{before:?}");
    clock.0.store(a_deadline + 1, Ordering::SeqCst);
    let after = in_ctx("run-c", saga.run(&*log, "s-lease", trip("s-lease"))).await.unwrap();
    assert_eq!(after.bookings.len(), 3);
    assert_eq!(world.booked(&token("s-lease", "hotel")), 1);
}

pub async fn suspension_then_resume(log: Log) {
    let world = Arc::new(World::default());
    let mut flight = booking(&world, "flight");
    flight.budget = Duration::from_secs(30);
    let saga = Saga::<Trip>::new("trip").step(booking(&world, "hotel")).step(flight).step(booking(&world, "rental"));
    // 5 s left: enough for the hotel (100 ms budget), not for the flight (30 s).
    let short = Ctx::builder("short").timeout(Duration::from_secs(5)).build();
    let result = short.scope(saga.run(&*log, "s-susp", trip("s-susp"))).await;
    match &result {
        Err(SagaError::Suspended { next, remaining, .. }) => {
            assert_eq!(next, "flight");
            assert!(*remaining < Duration::from_secs(30));
        }
        other => panic!("expected Suspended, got {other:?}"),
    }
    assert!(result.unwrap_err().is_retryable());
    let record = log.load("s-susp").await.unwrap().unwrap();
    assert_eq!(record.steps[0].state, ActionState::Done);
    assert_eq!(record.steps[1].state, ActionState::Pending);
    assert!(record.lease.is_none(), "a suspended saga holds no lease");
    assert_eq!(world.calls(), vec!["book:hotel"]);

    let out = in_ctx("long", saga.run(&*log, "s-susp", trip("s-susp"))).await.unwrap();
    assert_eq!(out.bookings.len(), 3);
    assert_eq!(world.count("book:hotel"), 1, "the hotel is not booked again");
}

pub async fn recover_finishes_stalled_sagas(log: Log) {
    // One saga crashed mid-run, one crashed while compensating.
    let world = Arc::new(World::default());
    let crash_a = CrashLog::new(log.clone(), Some(Crash::BeforeWrite(2)));
    assert!(run_until_crash(&trip_saga(&world), &crash_a, "rec-a", "x").await.is_none());
    world.fail_step("rental", u32::MAX);
    let crash_b = CrashLog::new(log.clone(), Some(Crash::AfterWrite(3)));
    assert!(run_until_crash(&trip_saga(&world), &crash_b, "rec-b", "y").await.is_none());
    assert_eq!(log.load("rec-b").await.unwrap().unwrap().status, SagaStatus::Compensating);
    world.fail_step("rental", 0);

    let clock = ManualClock::now();
    // Nothing is stalled yet.
    let report = recover(&*log, &[&trip_saga(&world)], RecoverOptions::default().clock(clock.clone())).await.unwrap();
    assert!(report.finished.is_empty() && report.pending.is_empty(), "{report:?}");

    clock.advance(Duration::from_secs(3600));
    let sagas_a = trip_saga(&world).with_clock(clock.clone());
    let report = recover(&*log, &[&sagas_a], RecoverOptions::default().clock(clock.clone())).await.unwrap();
    let mut finished: Vec<(String, bool)> = report
        .finished
        .iter()
        .filter(|(id, _)| id.starts_with("rec-"))
        .map(|(id, r)| (id.clone(), r.is_ok()))
        .collect();
    finished.sort();
    assert_eq!(finished, vec![("rec-a".to_owned(), true), ("rec-b".to_owned(), false)]);
    assert_eq!(log.load("rec-a").await.unwrap().unwrap().status, SagaStatus::Committed);
    assert_eq!(log.load("rec-b").await.unwrap().unwrap().status, SagaStatus::RolledBack);
    assert_eq!(world.cancelled(&token("rec-b", "hotel")), 1);

    // `compensate_after`: an old stalled saga is compensated instead.
    let world = Arc::new(World::default());
    let crash_c = CrashLog::new(log.clone(), Some(Crash::AfterWrite(1)));
    assert!(run_until_crash(&trip_saga(&world), &crash_c, "rec-c", "z").await.is_none());
    let clock = ManualClock::now();
    clock.advance(Duration::from_secs(7200));
    let saga = trip_saga(&world).with_clock(clock.clone());
    let options = RecoverOptions::default().clock(clock.clone()).compensate_after(Duration::from_secs(600));
    let report = recover(&*log, &[&saga], options).await.unwrap();
    assert!(
        report.finished.iter().any(|(id, r)| id == "rec-c" && matches!(r, Err(SagaError::RolledBack { .. }))),
        "{report:?}"
    );
    // The interrupted flight may have booked: its compensation ran too.
    assert_eq!(world.cancelled(&token("rec-c", "hotel")), 1);
    assert_eq!(world.calls().iter().filter(|c| c.starts_with("cancel")).count(), 2, "{:?}", world.calls());
}

/// Runs `saga` in an invocation whose deadline is 10 s away until `step`
/// has booked downstream, then drops the run: a process killed inside the
/// step. Checks the log is as such a crash leaves it (the step `Started`,
/// no result, the lease still held) and returns the lease's expiry.
pub async fn crash_inside_step(saga: &Saga<Trip, Trip>, log: &Log, world: &World, id: &str, step: &str) -> u64 {
    let _release = world.hang_after_booking(step);
    let ctx = Ctx::builder("crashed").timeout(Duration::from_secs(10)).build();
    let deadline = ctx.deadline_epoch_ms();
    tokio::select! {
        result = ctx.scope(saga.run(&**log, id, trip(id))) => panic!("the run must hang inside {step}: {result:?}"),
        () = world.acted.notified() => {}
    }
    assert_eq!(world.booked(&token(id, step)), 1, "{step} booked before the crash");
    let record = log.load(id).await.unwrap().unwrap();
    let i = saga.step_names().iter().position(|s| *s == step).unwrap();
    assert_eq!(record.status, SagaStatus::Running);
    assert_eq!(record.steps[i].state, ActionState::Started, "{record:?}");
    assert_eq!(record.steps[i].output, None);
    assert_eq!(record.lease.as_ref().map(|l| l.expires_at_ms), Some(deadline));
    deadline
}

/// The interrupted step's compensation ran with no output and the token
/// its interrupted attempt sent, and undid its booking.
fn assert_interrupted_step_undone(world: &World, id: &str, step: &str) {
    let sent = world.tokens_of(&format!("book:{step}"));
    assert_eq!(sent.first(), Some(&token(id, step)), "{:?}", world.calls());
    assert_eq!(world.tokens_of(&format!("cancel-unknown:{step}")), [sent[0].clone()], "{:?}", world.calls());
    assert_eq!(world.cancelled(&token(id, step)), 1, "{step}'s booking is cancelled");
}

/// Recovery compensates (`compensate_after`) a saga whose process died
/// inside a step after it booked: not while the dead run's lease lasts,
/// then the interrupted step's compensation cancels its booking by token.
pub async fn interrupted_step_compensated_when_recovery_aborts(log: Log) {
    let world = Arc::new(World::default());
    let deadline = crash_inside_step(&trip_saga(&world), &log, &world, "int-abort", "flight").await;

    let clock = ManualClock::at(deadline - 1);
    let saga = trip_saga(&world).with_clock(clock.clone());
    let options = || {
        RecoverOptions::default().clock(clock.clone()).stalled_after(Duration::ZERO).compensate_after(Duration::ZERO)
    };
    let report = recover(&*log, &[&saga], options()).await.unwrap();
    assert!(
        matches!(report.pending.as_slice(), [(id, SagaError::InProgress { .. })] if id == "int-abort"),
        "{report:?}"
    );
    assert_eq!(world.cancelled(&token("int-abort", "flight")), 0, "not while the lease lasts");

    clock.0.store(deadline + 1, Ordering::SeqCst);
    let report = recover(&*log, &[&saga], options()).await.unwrap();
    match report.finished.as_slice() {
        [(id, Err(SagaError::RolledBack { failed_step, cause, .. }))] if id == "int-abort" => {
            assert_eq!((failed_step.as_str(), cause.code.as_str()), ("flight", "SagaAborted"));
        }
        other => panic!("expected int-abort rolled back, got {other:?}"),
    }
    let cancels: Vec<String> = world.calls().into_iter().filter(|c| c.starts_with("cancel")).collect();
    assert_eq!(cancels, ["cancel-unknown:flight", "cancel:hotel"]);
    assert_interrupted_step_undone(&world, "int-abort", "flight");
    assert_eq!(world.cancelled(&token("int-abort", "hotel")), 1);
    assert_eq!(world.count("book:rental"), 0);
    let record = log.load("int-abort").await.unwrap().unwrap();
    assert_eq!(record.status, SagaStatus::RolledBack);
    assert!(record.lease.is_none());
}

/// A saga whose process died inside a step after it booked is run again
/// after the dead run's lease: the re-run of the step fails, so the step's
/// own compensation (no output, same token) cancels the first booking,
/// although the step is not marked `side_effects`.
pub async fn interrupted_step_compensated_when_its_rerun_fails(log: Log) {
    let world = Arc::new(World::default());
    let deadline = crash_inside_step(&trip_saga(&world), &log, &world, "int-rerun", "flight").await;
    world.fail_step("flight", u32::MAX);

    let clock = ManualClock::at(deadline - 1);
    let saga = trip_saga(&world).with_clock(clock.clone());
    let early = in_ctx("early", saga.resume(&*log, "int-rerun")).await;
    assert!(matches!(early, Err(SagaError::InProgress { .. })), "{early:?}");

    clock.0.store(deadline + 1, Ordering::SeqCst);
    assert_rolled_back(in_ctx("later", saga.resume(&*log, "int-rerun")).await, "flight");
    assert_eq!(world.calls(), ["book:hotel", "book:flight", "book:flight", "cancel-unknown:flight", "cancel:hotel"]);
    assert_eq!(world.tokens_of("book:flight"), [token("int-rerun", "flight"), token("int-rerun", "flight")]);
    assert_interrupted_step_undone(&world, "int-rerun", "flight");
    assert_eq!(world.cancelled(&token("int-rerun", "hotel")), 1);
}

/// A run still alive inside a step (it booked, then stalled past its
/// deadline) loses its lease to another run, whose re-run of the step
/// fails: the booking is cancelled by token, and the stalled run, when it
/// wakes up, cannot overwrite the outcome.
pub async fn interrupted_step_compensated_after_lease_takeover(log: Log) {
    let world = Arc::new(World::default());
    let release = world.hang_after_booking("flight");
    let clock = ManualClock::now();
    let saga = trip_saga(&world).with_clock(clock.clone());
    let ctx_a = Ctx::builder("run-a").timeout(Duration::from_secs(10)).build();
    let deadline = ctx_a.deadline_epoch_ms();
    let a = tokio::spawn({
        let (saga, log) = (saga.clone(), log.clone());
        ctx_a.scope(async move { saga.run(&*log, "int-lease", trip("int-lease")).await })
    });
    world.acted.notified().await;
    world.fail_step("flight", u32::MAX);

    clock.0.store(deadline + 1, Ordering::SeqCst);
    assert_rolled_back(in_ctx("run-b", saga.run(&*log, "int-lease", trip("int-lease"))).await, "flight");
    assert_interrupted_step_undone(&world, "int-lease", "flight");
    assert_eq!(world.cancelled(&token("int-lease", "hotel")), 1);

    release.notify_one();
    let a = a.await.unwrap();
    assert!(matches!(a, Err(SagaError::InProgress { .. })), "the stale run loses: {a:?}");
    let record = log.load("int-lease").await.unwrap().unwrap();
    assert_eq!(record.status, SagaStatus::RolledBack);
    assert_eq!(world.count("book:rental"), 0);
}

/// An interrupted step whose re-run succeeds is an ordinary completed step:
/// when a later step fails it is compensated with its output, and the
/// later step (no side effects, not interrupted) is not.
pub async fn interrupted_step_rerun_succeeds_then_later_failure(log: Log) {
    let world = Arc::new(World::default());
    let deadline = crash_inside_step(&trip_saga(&world), &log, &world, "int-ok", "flight").await;
    world.fail_step("rental", u32::MAX);
    let clock = ManualClock::at(deadline + 1);
    let saga = trip_saga(&world).with_clock(clock);
    assert_rolled_back(in_ctx("later", saga.resume(&*log, "int-ok")).await, "rental");
    let cancels: Vec<String> = world.calls().into_iter().filter(|c| c.starts_with("cancel")).collect();
    assert_eq!(cancels, ["cancel:flight", "cancel:hotel"]);
    assert_eq!(world.tokens_of("cancel:flight"), [token("int-ok", "flight")]);
    assert_eq!(world.cancelled(&token("int-ok", "flight")), 1);
}

/// Every behaviour as a test, for a log made by `$make` (an async fn).
#[macro_export]
macro_rules! saga_behaviours {
    ($make:path) => {
        #[tokio::test]
        async fn success() {
            saga_common::success($make().await).await;
        }
        #[tokio::test]
        async fn failure_at_each_step_compensates_in_reverse() {
            saga_common::failure_at_each_step($make().await).await;
        }
        #[tokio::test]
        async fn failed_step_with_side_effects_is_compensated() {
            saga_common::failed_step_with_side_effects_is_compensated($make().await).await;
        }
        #[tokio::test]
        async fn compensation_failing_once_is_retried() {
            saga_common::compensation_retried($make().await).await;
        }
        #[tokio::test]
        async fn compensation_always_failing_ends_compensation_failed() {
            saga_common::compensation_always_fails($make().await).await;
        }
        #[tokio::test]
        async fn crash_at_every_transition_of_a_success() {
            saga_common::crash_at_every_transition(|| Box::pin($make()), false).await;
        }
        #[tokio::test]
        async fn crash_at_every_transition_of_a_rollback() {
            saga_common::crash_at_every_transition(|| Box::pin($make()), true).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn concurrent_runs_and_lease_expiry() {
            saga_common::concurrent_runs($make().await).await;
        }
        #[tokio::test]
        async fn suspension_then_resume() {
            saga_common::suspension_then_resume($make().await).await;
        }
        #[tokio::test]
        async fn recover_finishes_stalled_sagas() {
            saga_common::recover_finishes_stalled_sagas($make().await).await;
        }
        #[tokio::test]
        async fn interrupted_step_compensated_when_recovery_aborts() {
            saga_common::interrupted_step_compensated_when_recovery_aborts($make().await).await;
        }
        #[tokio::test]
        async fn interrupted_step_compensated_when_its_rerun_fails() {
            saga_common::interrupted_step_compensated_when_its_rerun_fails($make().await).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn interrupted_step_compensated_after_lease_takeover() {
            saga_common::interrupted_step_compensated_after_lease_takeover($make().await).await;
        }
        #[tokio::test]
        async fn interrupted_step_rerun_succeeds_then_later_failure() {
            saga_common::interrupted_step_rerun_succeeds_then_later_failure($make().await).await;
        }
    };
}
