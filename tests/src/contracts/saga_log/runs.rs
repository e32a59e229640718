//! The behaviours of sagas run on the log under test: outcomes, crashes,
//! leases, suspension, recovery and interrupted steps, with their effects
//! on the [`World`].

use std::sync::Arc;
use std::time::Duration;

use halo::Ctx;
use halo::platform::{Clock, ManualClock, SystemClock};
use halo::saga::log::{ActionState, SagaLog, SagaStatus};
use halo::saga::{RecoverOptions, Saga, SagaError, recover};
use tokio::sync::Notify;

use super::world::{Crash, CrashLog, STEPS, Trip, World, booking, in_ctx, run_until_crash, token, trip, trip_saga};

fn assert_rolled_back(result: Result<Trip, SagaError>, step: &str) {
    match result {
        Err(SagaError::RolledBack { failed_step, cause, .. }) => {
            assert_eq!(failed_step, step);
            assert_eq!(cause.code, "Unavailable");
        }
        other => panic!("expected RolledBack at {step}, got {other:?}"),
    }
}

/// A saga of three steps commits: each step runs once, in order, with
/// N + 1 writes for N steps; the lease is released; running the saga id
/// again returns the recorded output without running a step.
pub async fn success_commits_with_n_plus_one_writes(log: Arc<dyn SagaLog>) {
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

/// A failure at each step in turn rolls the saga back: the completed steps
/// are compensated in reverse order (2k writes for a failure at step k),
/// and running the saga id again returns the recorded outcome.
pub async fn failure_at_each_step_compensates_in_reverse(log: Arc<dyn SagaLog>) {
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

/// A failed step marked `side_effects` is compensated too (given no
/// output), before the completed steps.
pub async fn failed_step_with_side_effects_is_compensated(log: Arc<dyn SagaLog>) {
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

/// A compensation that fails once is retried, and the saga rolls back.
pub async fn compensation_failing_once_is_retried(log: Arc<dyn SagaLog>) {
    let world = Arc::new(World::default());
    world.fail_step("rental", u32::MAX);
    world.fail_comp("hotel", 1);
    let result = in_ctx("r1", trip_saga(&world).run(&*log, "s-retry", trip("s-retry"))).await;
    assert_rolled_back(result, "rental");
    assert_eq!(world.count("cancel:hotel"), 2, "failed once, retried");
    assert_eq!(world.cancelled(&token("s-retry", "hotel")), 1);
    assert_eq!(world.cancelled(&token("s-retry", "flight")), 1);
}

/// A compensation that always fails uses all its attempts, the others still
/// run, and the saga ends `CompensationFailed` with the failure recorded.
pub async fn compensation_always_failing_ends_compensation_failed(log: Arc<dyn SagaLog>) {
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

/// Crashes a run at every write of a successful saga (before the write
/// reaches the log, and just after), resumes each with a fresh executor
/// after the crashed run's lease, and checks the outcome and the effects:
/// every step booked once, none cancelled, completed steps never re-run.
pub async fn crash_at_every_transition_of_a_success(log: Arc<dyn SagaLog>) {
    crash_at_every_transition(log, false).await;
}

/// As [`crash_at_every_transition_of_a_success`] for a saga whose last step
/// fails: the resumed run rolls back, every completed step is cancelled
/// exactly once.
pub async fn crash_at_every_transition_of_a_rollback(log: Arc<dyn SagaLog>) {
    crash_at_every_transition(log, true).await;
}

/// Crashes at every write of a run, resumes with a fresh executor, and
/// checks the outcome and the effects (each crash on its own saga id).
async fn crash_at_every_transition(log: Arc<dyn SagaLog>, rollback: bool) {
    let total = if rollback { 6 } else { 4 };
    for k in 0..total {
        for crash in [Crash::BeforeWrite(k), Crash::AfterWrite(k)] {
            let world = Arc::new(World::default());
            if rollback {
                world.fail_step("rental", u32::MAX);
            }
            let id = format!("crash-{rollback}-{k}-{}", matches!(crash, Crash::AfterWrite(_)));
            let crashing = CrashLog::new(log.clone(), Some(crash));
            let first = run_until_crash(&trip_saga(&world), &crashing, &id, "first").await;
            assert!(first.is_none(), "{crash:?}: the run must crash");

            // A fresh executor, later than the crashed run's lease.
            let clock = ManualClock::at(SystemClock.now_ms());
            clock.advance_ms(3_600_000);
            let saga = trip_saga(&world).clock(Arc::new(clock));
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

/// A second run of a saga while the first holds the lease gets
/// `InProgress` (retryable); a run that died holding the lease blocks
/// others until its deadline, then another run finishes the saga without
/// booking twice.
pub async fn concurrent_runs_and_lease_expiry(log: Arc<dyn SagaLog>) {
    let world = Arc::new(World::default());
    let gate = Arc::new(Notify::new());
    world.gate.lock().unwrap().insert("flight".into(), gate.clone());
    let clock = ManualClock::at(SystemClock.now_ms());
    let saga = trip_saga(&world).clock(Arc::new(clock.clone()));
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
    let saga = trip_saga(&world).clock(Arc::new(clock.clone()));
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
    clock.set_ms(a_deadline + 1);
    let after = in_ctx("run-c", saga.run(&*log, "s-lease", trip("s-lease"))).await.unwrap();
    assert_eq!(after.bookings.len(), 3);
    assert_eq!(world.booked(&token("s-lease", "hotel")), 1);
}

/// With less time left than the next step's budget the saga suspends
/// (retryable, no lease held, the done steps recorded); a later run resumes
/// it without re-running a done step.
pub async fn suspension_then_resume(log: Arc<dyn SagaLog>) {
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

/// `recover` finds the stalled sagas (one crashed mid-run, one crashed
/// while compensating) only once they are stalled, and finishes them;
/// with `compensate_after` an old stalled saga is compensated instead.
pub async fn recover_finishes_stalled_sagas(log: Arc<dyn SagaLog>) {
    // One saga crashed mid-run, one crashed while compensating.
    let world = Arc::new(World::default());
    let crash_a = CrashLog::new(log.clone(), Some(Crash::BeforeWrite(2)));
    assert!(run_until_crash(&trip_saga(&world), &crash_a, "rec-a", "x").await.is_none());
    world.fail_step("rental", u32::MAX);
    let crash_b = CrashLog::new(log.clone(), Some(Crash::AfterWrite(3)));
    assert!(run_until_crash(&trip_saga(&world), &crash_b, "rec-b", "y").await.is_none());
    assert_eq!(log.load("rec-b").await.unwrap().unwrap().status, SagaStatus::Compensating);
    world.fail_step("rental", 0);

    let clock = ManualClock::at(SystemClock.now_ms());
    // Nothing is stalled yet.
    let report =
        recover(&*log, &[&trip_saga(&world)], RecoverOptions::default().clock(Arc::new(clock.clone()))).await.unwrap();
    assert!(report.finished.is_empty() && report.pending.is_empty(), "{report:?}");

    clock.advance_ms(3_600_000);
    let sagas_a = trip_saga(&world).clock(Arc::new(clock.clone()));
    let report = recover(&*log, &[&sagas_a], RecoverOptions::default().clock(Arc::new(clock.clone()))).await.unwrap();
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
    let clock = ManualClock::at(SystemClock.now_ms());
    clock.advance_ms(7_200_000);
    let saga = trip_saga(&world).clock(Arc::new(clock.clone()));
    let options = RecoverOptions::default().clock(Arc::new(clock.clone())).compensate_after(Duration::from_secs(600));
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
async fn crash_inside_step(
    saga: &Saga<Trip, Trip>,
    log: &Arc<dyn SagaLog>,
    world: &World,
    id: &str,
    step: &str,
) -> u64 {
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
pub async fn interrupted_step_compensated_when_recovery_aborts(log: Arc<dyn SagaLog>) {
    let world = Arc::new(World::default());
    let deadline = crash_inside_step(&trip_saga(&world), &log, &world, "int-abort", "flight").await;

    let clock = ManualClock::at(deadline - 1);
    let saga = trip_saga(&world).clock(Arc::new(clock.clone()));
    let options = || {
        RecoverOptions::default()
            .clock(Arc::new(clock.clone()))
            .stalled_after(Duration::ZERO)
            .compensate_after(Duration::ZERO)
    };
    let report = recover(&*log, &[&saga], options()).await.unwrap();
    assert!(
        matches!(report.pending.as_slice(), [(id, SagaError::InProgress { .. })] if id == "int-abort"),
        "{report:?}"
    );
    assert_eq!(world.cancelled(&token("int-abort", "flight")), 0, "not while the lease lasts");

    clock.set_ms(deadline + 1);
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
pub async fn interrupted_step_compensated_when_its_rerun_fails(log: Arc<dyn SagaLog>) {
    let world = Arc::new(World::default());
    let deadline = crash_inside_step(&trip_saga(&world), &log, &world, "int-rerun", "flight").await;
    world.fail_step("flight", u32::MAX);

    let clock = ManualClock::at(deadline - 1);
    let saga = trip_saga(&world).clock(Arc::new(clock.clone()));
    let early = in_ctx("early", saga.resume(&*log, "int-rerun")).await;
    assert!(matches!(early, Err(SagaError::InProgress { .. })), "{early:?}");

    clock.set_ms(deadline + 1);
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
pub async fn interrupted_step_compensated_after_lease_takeover(log: Arc<dyn SagaLog>) {
    let world = Arc::new(World::default());
    let release = world.hang_after_booking("flight");
    let clock = ManualClock::at(SystemClock.now_ms());
    let saga = trip_saga(&world).clock(Arc::new(clock.clone()));
    let ctx_a = Ctx::builder("run-a").timeout(Duration::from_secs(10)).build();
    let deadline = ctx_a.deadline_epoch_ms();
    let a = tokio::spawn({
        let (saga, log) = (saga.clone(), log.clone());
        ctx_a.scope(async move { saga.run(&*log, "int-lease", trip("int-lease")).await })
    });
    world.acted.notified().await;
    world.fail_step("flight", u32::MAX);

    clock.set_ms(deadline + 1);
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
pub async fn interrupted_step_rerun_succeeds_then_later_failure(log: Arc<dyn SagaLog>) {
    let world = Arc::new(World::default());
    let deadline = crash_inside_step(&trip_saga(&world), &log, &world, "int-ok", "flight").await;
    world.fail_step("rental", u32::MAX);
    let clock = ManualClock::at(deadline + 1);
    let saga = trip_saga(&world).clock(Arc::new(clock));
    assert_rolled_back(in_ctx("later", saga.resume(&*log, "int-ok")).await, "rental");
    let cancels: Vec<String> = world.calls().into_iter().filter(|c| c.starts_with("cancel")).collect();
    assert_eq!(cancels, ["cancel:flight", "cancel:hotel"]);
    assert_eq!(world.tokens_of("cancel:flight"), [token("int-ok", "flight")]);
    assert_eq!(world.cancelled(&token("int-ok", "flight")), 1);
}
