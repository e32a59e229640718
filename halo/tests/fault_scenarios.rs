//! Seeded fault scenarios: idempotency, the saga log and shared circuit
//! breakers on DynamoDB (moto) through the fault proxy, with a quarter of
//! their requests faulted at random (throttled, a 500, a dropped
//! connection, a write applied and its answer dropped, a write applied and
//! its answer replaced by a 500). The SDK retries each fault as it would
//! in Lambda; a client retries what it is told to retry. Each seed is one
//! deterministic run; the assertions are the promises that must hold
//! under every one:
//!
//! - no side effect runs twice for one idempotency key, and no call is
//!   told `AlreadyInProgress` because of its own claim;
//! - every saga ends committed or rolled back, no step runs twice because
//!   of a write of its own run, and no run is told `SagaInProgress`
//!   because of its own write;
//! - breakers sharing a store agree on one state, and a transition is
//!   never lost or taken for another container's;
//! - every failed answer is a stable code whose message holds no internal
//!   text.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use halo::idempotency::{DynamoDbIdempotencyStore, Idempotency, IdempotencyConfig};
use halo::platform::ManualClock;
use halo::saga::log::{SagaLog, SagaStatus};
use halo::saga::{DynamoDbSagaLog, Saga, SagaError, StepCtx};
use halo_test_support::fault_proxy::FaultProxy;
use halo_test_support::moto::{Moto, sdk_config, unique_name};

/// Every scenario runs once with each of these seeds.
const SEEDS: [u64; 3] = [11, 29, 47];

/// The share of requests faulted.
const FAULT_PERCENT: u32 = 25;

/// How often a client sends a call before it gives up.
const CLIENT_ATTEMPTS: usize = 10;

/// A DynamoDB client through `proxy`, retrying as the SDK does by default
/// (3 attempts) but with a short backoff, so a run takes seconds.
async fn client(proxy: &FaultProxy) -> aws_sdk_dynamodb::Client {
    let config = sdk_config(&proxy.endpoint()).await;
    let retry = RetryConfig::standard().with_max_attempts(3).with_initial_backoff(Duration::from_millis(5));
    aws_sdk_dynamodb::Client::from_conf(aws_sdk_dynamodb::config::Builder::from(&config).retry_config(retry).build())
}

/// A failed answer is one of `codes`, and its public message says nothing
/// of the injected fault or of the SDK.
fn assert_public(err: &halo::Error, codes: &[&str], what: &str) {
    assert!(codes.contains(&err.code()), "{what}: unexpected code {} ({})", err.code(), err.message());
    for internal in ["injected", "service error", "dispatch", "InternalServerError", "Throughput", "PutItem"] {
        assert!(!err.message().contains(internal), "{what}: `{internal}` in the message {:?}", err.message());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotency_under_random_faults_runs_each_key_once() {
    const KEYS: u32 = 12;
    for seed in SEEDS {
        let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
        let store = DynamoDbIdempotencyStore::new(client(&proxy).await, unique_name("scenario-idem"));
        store.create_table().await.unwrap();
        proxy.random_faults(seed, FAULT_PERCENT, &["PutItem", "GetItem", "DeleteItem"]);
        let charge = Idempotency::new(IdempotencyConfig::new("charge").key(["/id"])).with_store(store);
        let charged: Vec<AtomicU32> = (0..KEYS).map(|_| AtomicU32::new(0)).collect();
        let failed_once: Vec<AtomicU32> = (0..KEYS).map(|_| AtomicU32::new(0)).collect();
        let mut answered = 0;
        for key in 0..KEYS {
            let event = serde_json::json!({ "id": format!("p-{key}") });
            let ctx = halo::Ctx::for_test();
            for attempt in 0..CLIENT_ATTEMPTS {
                let what = format!("seed {seed} key {key} attempt {attempt}");
                let body = async {
                    // Every third key's first run fails: the claim is
                    // released and the client's retry runs it again.
                    if key.is_multiple_of(3) && failed_once[key as usize].fetch_add(1, Ordering::SeqCst) == 0 {
                        return Err(halo::Error::unavailable("the card network is down"));
                    }
                    charged[key as usize].fetch_add(1, Ordering::SeqCst);
                    Ok(key * 10)
                };
                match charge.run(&event, Some(&ctx), body).await {
                    Ok(value) => {
                        assert_eq!(value, key * 10, "{what}: the key's own answer");
                        answered += 1;
                        break;
                    }
                    Err(err) => {
                        assert_public(&err, &["IdempotencyStore", "Unavailable"], &what);
                        assert!(err.kind().is_retryable(), "{what}: a client may retry {}", err.code());
                    }
                }
            }
        }
        assert_eq!(answered, KEYS, "seed {seed}: every key was answered within {CLIENT_ATTEMPTS} attempts");
        let counts: Vec<u32> = charged.iter().map(|c| c.load(Ordering::SeqCst)).collect();
        assert_eq!(counts, vec![1; KEYS as usize], "seed {seed}: each key charged exactly once");
        let faults = proxy.faults();
        assert!(faults.iter().any(|(kind, _)| kind.starts_with("Applied")), "seed {seed}: {faults:?}");
        println!("idempotency seed {seed}: {} requests, faults {faults:?}", proxy.seen().len());
    }
}

/// The side effects of the saga steps, per saga and step.
static EFFECTS: Mutex<Option<HashMap<(String, &'static str), u32>>> = Mutex::new(None);

fn effect(saga_id: &str, step: &'static str) {
    let mut effects = EFFECTS.lock().unwrap();
    *effects.get_or_insert_with(HashMap::new).entry((saga_id.to_owned(), step)).or_default() += 1;
}

fn effects_of(saga_id: &str) -> HashMap<&'static str, u32> {
    let effects = EFFECTS.lock().unwrap();
    let all = effects.as_ref().map(|e| e.iter()).into_iter().flatten();
    all.filter(|((id, _), _)| id == saga_id).map(|((_, step), n)| (*step, *n)).collect()
}

#[halo::saga_step(compensate = release_seat)]
async fn reserve_seat(ctx: &StepCtx, trip: u32) -> Result<u32, halo::Error> {
    effect(ctx.saga_id(), "reserve_seat");
    Ok(trip)
}

async fn release_seat(ctx: &StepCtx, _trip: u32, _seat: Option<u32>) -> Result<(), halo::Error> {
    effect(ctx.saga_id(), "release_seat");
    Ok(())
}

#[halo::saga_step]
async fn pay(ctx: &StepCtx, trip: u32) -> Result<u32, halo::Error> {
    if trip.is_multiple_of(3) {
        return Err(halo::Error::unprocessable("card declined").with_code("CardDeclined"));
    }
    effect(ctx.saga_id(), "pay");
    Ok(trip * 10)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sagas_under_random_faults_commit_or_roll_back_running_each_step_once() {
    const TRIPS: u32 = 9;
    for seed in SEEDS {
        let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
        let log = DynamoDbSagaLog::new(client(&proxy).await, unique_name("scenario-saga"));
        log.create_table().await.unwrap();
        proxy.random_faults(seed, FAULT_PERCENT, &["PutItem", "GetItem"]);
        let clock = ManualClock::at(1_800_000_000_000);
        let saga = Saga::<u32>::new("trip").step(reserve_seat).step(pay).clock(Arc::new(clock.clone()));
        let mut log_failures: Vec<String> = Vec::new();
        for trip in 0..TRIPS {
            let id = format!("seed{seed}-trip{trip}");
            let mut outcome = None;
            for attempt in 0..CLIENT_ATTEMPTS {
                let what = format!("seed {seed} trip {trip} attempt {attempt}");
                match saga.run(&log, &id, trip).await {
                    Ok(value) => {
                        assert_eq!(value, trip * 10, "{what}");
                        outcome = Some(SagaStatus::Committed);
                        break;
                    }
                    Err(err @ SagaError::RolledBack { .. }) => {
                        assert_eq!(err.failed_step(), Some("pay"), "{what}");
                        outcome = Some(SagaStatus::RolledBack);
                        break;
                    }
                    Err(SagaError::InProgress { .. }) => {
                        panic!("{what}: SagaInProgress with no other run (a run's own write taken for another's)")
                    }
                    Err(err) => {
                        let public = halo::IntoError::into_error(err);
                        assert_public(&public, &["SagaLogUnavailable"], &what);
                        log_failures.push(id.clone());
                        // The failed run's lease holds the saga until it
                        // lapses (its Lambda deadline): the client comes
                        // back after it.
                        clock.advance_ms(16 * 60 * 1000);
                    }
                }
            }
            let outcome = outcome.unwrap_or_else(|| panic!("seed {seed} trip {trip}: no outcome"));
            let expected = if trip.is_multiple_of(3) { SagaStatus::RolledBack } else { SagaStatus::Committed };
            assert_eq!(outcome, expected, "seed {seed} trip {trip}");
            let record = log.load(&id).await;
            let record = match record {
                Ok(record) => record,
                Err(_) => log.load(&id).await.unwrap(),
            };
            assert_eq!(record.map(|r| r.status), Some(expected), "seed {seed} trip {trip}: the log agrees");
            let effects = effects_of(&id);
            // A step runs twice only if its own completion was never
            // recorded (every attempt failed): then the run answered 503.
            if !log_failures.contains(&id) {
                assert!(effects.values().all(|n| *n == 1), "seed {seed} trip {trip}: each step once: {effects:?}");
            }
            let compensated = effects.get("release_seat").copied().unwrap_or(0);
            assert_eq!(compensated > 0, expected == SagaStatus::RolledBack, "seed {seed} trip {trip}: {effects:?}");
        }
        let faults = proxy.faults();
        assert!(faults.iter().any(|(kind, _)| kind.starts_with("Applied")), "seed {seed}: {faults:?}");
        println!(
            "saga seed {seed}: {} requests, {} runs answered 503, faults {faults:?}",
            proxy.seen().len(),
            log_failures.len()
        );
    }
}

/// Syncs every breaker until its sync succeeds (a faulted store answers
/// some of them with an error; the breaker keeps its local state).
async fn sync_all(breakers: &[halo::breaker::CircuitBreaker], what: &str) {
    for (i, breaker) in breakers.iter().enumerate() {
        let mut attempts = 0;
        while let Err(err) = breaker.sync().await {
            attempts += 1;
            assert!(attempts < 20, "{what}: breaker {i} never synced: {err}");
            let public = halo::IntoError::into_error(err);
            assert_public(&public, &["BreakerStore"], what);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breakers_under_random_faults_agree_on_one_state() {
    use halo::breaker::store::BreakerStore;
    use halo::breaker::{BreakerPolicy, BreakerState, CircuitBreaker, DynamoDbBreakerStore};

    for seed in SEEDS {
        let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
        let table = unique_name("scenario-breaker");
        let store = DynamoDbBreakerStore::new(client(&proxy).await, &table);
        store.create_table().await.unwrap();
        proxy.random_faults(seed, FAULT_PERCENT, &["GetItem", "PutItem", "UpdateItem"]);
        let store: Arc<dyn BreakerStore> = Arc::new(store);
        let clock = ManualClock::at(1_800_000_000_000);
        let policy = BreakerPolicy::default()
            .consecutive_failures(3)
            .open_for(Duration::from_secs(30), Duration::from_secs(30))
            .without_jitter()
            .half_open(1, 1);
        let containers: Vec<CircuitBreaker> = (0..3)
            .map(|_| {
                CircuitBreaker::shared("payments", policy.clone(), Arc::clone(&store))
                    .clock(Arc::new(clock.clone()))
                    .without_background_refresh()
            })
            .collect();
        let states = |containers: &[CircuitBreaker]| containers.iter().map(CircuitBreaker::state).collect::<Vec<_>>();

        for _ in 0..3 {
            let failed: Result<(), halo::Error> =
                containers[0].call(async { Err::<(), _>(halo::Error::upstream("payments are down")) }).await;
            assert!(failed.is_err());
        }
        assert_eq!(containers[0].state(), BreakerState::Open, "seed {seed}: the failing container trips");
        sync_all(&containers, &format!("seed {seed} open")).await;
        assert_eq!(states(&containers), vec![BreakerState::Open; 3], "seed {seed}: the fleet adopts the trip");

        // After the open time a sync moves the fleet to half-open and
        // leases the one probe slot to one container; its probe passes.
        clock.advance_ms(31_000);
        sync_all(&containers, &format!("seed {seed} half-open")).await;
        assert_eq!(states(&containers), vec![BreakerState::HalfOpen; 3], "seed {seed}: the fleet is half-open");
        let mut probes = 0;
        for breaker in &containers {
            let probe: Result<(), halo::Error> = breaker.call(async { Ok::<(), halo::Error>(()) }).await;
            match probe {
                Ok(()) => probes += 1,
                Err(err) => assert_eq!(err.code(), "CircuitOpen", "seed {seed}: no slot, no call"),
            }
        }
        assert_eq!(probes, 1, "seed {seed}: one probe for the fleet");
        for round in 0..3 {
            sync_all(&containers, &format!("seed {seed} close round {round}")).await;
        }
        assert_eq!(states(&containers), vec![BreakerState::Closed; 3], "seed {seed}: the fleet adopts the close");

        proxy.random_faults(seed, 0, &[]);
        let stored = store.load("payments").await.unwrap().unwrap();
        assert_eq!(stored.state, BreakerState::Closed, "seed {seed}: the store holds the last transition");
        println!("breaker seed {seed}: {} requests, faults {:?}", proxy.seen().len(), proxy.faults());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fan_out_parts_under_random_faults_are_counted_once_and_fan_in_once() {
    use halo::fanout::{DynamoDbFanoutStore, FanIn, Fanout, JobOutcome, JobStatus, MemoryDispatcher, NewJob};

    const PARTS: u32 = 24;
    for seed in SEEDS {
        let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
        let store = DynamoDbFanoutStore::new(client(&proxy).await, unique_name("scenario-fanout"));
        store.create_table().await.unwrap();
        let fanout = Fanout::new("numbers", Arc::new(store)).dispatcher(Arc::new(MemoryDispatcher::new()));
        let job_id = format!("job-{seed}");
        let parts: Vec<u32> = (0..PARTS).collect();
        fanout.start(NewJob::new(job_id.as_str(), ()), &parts).await.unwrap();
        proxy.random_faults(seed, FAULT_PERCENT, &["PutItem", "UpdateItem", "GetItem"]);

        let fan_ins: Mutex<Vec<FanIn<(), u32>>> = Mutex::default();
        let fan_in = |run: FanIn<(), u32>| {
            let fan_ins = &fan_ins;
            async move {
                fan_ins.lock().unwrap().push(run);
                Ok::<(), halo::Error>(())
            }
        };
        for index in 0..PARTS {
            let what = format!("seed {seed} part {index}");
            let mut recorded = false;
            for _ in 0..CLIENT_ATTEMPTS {
                match fanout.record_result(&job_id, index, &(index * 2), &fan_in).await {
                    Ok(_) => {
                        recorded = true;
                        break;
                    }
                    // The worker's batch item fails; SQS redelivers it.
                    Err(err) => assert_public(&err, &["FanoutStore", "FanInFailed"], &what),
                }
            }
            assert!(recorded, "{what}: recorded within {CLIENT_ATTEMPTS} deliveries");
        }
        proxy.random_faults(seed, 0, &[]);

        let runs = fan_ins.lock().unwrap().clone();
        assert_eq!(runs.len(), 1, "seed {seed}: the fan-in ran exactly once");
        assert_eq!(runs[0].outcome, JobOutcome::Completed, "seed {seed}");
        let expected: std::collections::BTreeMap<u32, u32> = (0..PARTS).map(|i| (i, i * 2)).collect();
        assert_eq!(runs[0].results, expected, "seed {seed}: every part's result, once");
        let view = fanout.status(&job_id).await.unwrap().unwrap();
        assert_eq!((view.status, view.completed), (JobStatus::Completed, PARTS), "seed {seed}: counted once each");
        let faults = proxy.faults();
        assert!(faults.iter().any(|(kind, _)| kind.starts_with("Applied")), "seed {seed}: {faults:?}");
        println!("fan-out seed {seed}: {} requests, faults {faults:?}", proxy.seen().len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_part_whose_answer_is_lost_is_its_own_and_runs_the_fan_in() {
    use halo::fanout::{DynamoDbFanoutStore, FanIn, Fanout, MemoryDispatcher, NewJob, PartRecording};
    use halo_test_support::fault_proxy::Fault;

    for fault in [Fault::AppliedThenDropped, Fault::AppliedThenServerError] {
        let proxy = FaultProxy::start(&Moto::shared().endpoint()).await;
        let store = DynamoDbFanoutStore::new(client(&proxy).await, unique_name("lost-part"));
        store.create_table().await.unwrap();
        let fanout = Fanout::new("numbers", Arc::new(store)).dispatcher(Arc::new(MemoryDispatcher::new()));
        fanout.start(NewJob::new("job-1", ()), &[0_u32, 1]).await.unwrap();
        let runs = AtomicU32::new(0);
        let fan_in = |_: FanIn<(), u32>| {
            let runs = &runs;
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<(), halo::Error>(())
            }
        };
        assert_eq!(fanout.record_result("job-1", 0, &0_u32, &fan_in).await.unwrap(), PartRecording::Recorded);
        proxy.plan("UpdateItem", fault);
        let last = fanout.record_result("job-1", 1, &2_u32, &fan_in).await.unwrap();
        assert_eq!(last, PartRecording::Recorded, "{fault:?}: its own write, not a duplicate");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{fault:?}: the last part ran the fan-in once");
        let again = fanout.record_result("job-1", 1, &2_u32, &fan_in).await.unwrap();
        assert_eq!(again, PartRecording::JobNotRunning, "{fault:?}: a redelivery after the end changes nothing");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "{fault:?}");
    }
}
