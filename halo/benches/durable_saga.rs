//! Sagas on Lambda durable execution (`Saga::run_durable`) against the
//! same saga on halo's in-memory log, on the SDK's `LocalRunner`.
//!
//! `cargo bench -p halo-lambda --features durable-execution --bench durable_saga`
//!
//! Every case is one whole `LocalRunner` execution of a halo durable
//! handler (`halo::durable_execution::handler`, halo's stack included)
//! that runs a saga of N trivial steps, then waits (a durable wait: the
//! first invocation suspends, the second replays everything before it):
//!
//! - `sdk/N`: the baseline without halo: a bare SDK handler making the
//!   same N named `ctx.step` calls (input + 1), then the wait;
//! - `memory/N`: the saga on a fresh `MemorySagaLog` (N + 1 record
//!   writes); the second invocation loads the committed record;
//! - `durable/N`: the saga with `run_durable`: each step one named
//!   durable step (a START and a SUCCEED checkpoint), the second
//!   invocation replays the N recorded steps;
//! - `durable_replay2/N`: as `durable/N` with two waits, so the N steps
//!   are replayed twice: `durable_replay2 − durable` is one more replay
//!   (plus one more wait), and its slope over N the replay cost of one
//!   completed step;
//! - `durable_paged/N`: as `durable/N` on `LocalRunner::new()`'s default
//!   backend, which pages the execution state one operation per page
//!   (every checkpoint response carries a marker once the history has two
//!   operations, and the SDK fetches the whole state again).
//!
//! The other cases run on `LocalRunner::new().single_page()`.
//!
//! `init/*`: building a durable handler (halo's stack around it) against
//! `Options::from_env()` and a plain handler's stack.
//!
//! Per step: `durable − sdk` is what halo's stack and saga add, `durable −
//! memory` what the durable checkpoints cost over halo's in-memory log.
//!
//! Before criterion runs, the bench counts the lifecycle events the SDK
//! emits after each checkpoint write (target
//! `aws_durable_execution_sdk::lifecycle`) for a 3-step saga committing and
//! one rolling back; after it, it prints the slopes (µs per step) from the
//! samples criterion took.

#[path = "support/logger.rs"]
mod logger;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};
use halo::durable_execution::sdk::observability::TARGET;
use halo::durable_execution::sdk::test_util::LocalRunner;
use halo::durable_execution::sdk::{BoxError, DurableContext};
use halo::durable_execution::{Execution, handler};
use halo::saga::{MemorySagaLog, Saga, StepCtx};
use serde_json::value::RawValue;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

async fn undo(_ctx: &StepCtx, _n: u64, _output: Option<u64>) -> Result<(), halo::Error> {
    Ok(())
}

/// Trivial steps (input + 1) with a compensation; names are unique within
/// a saga, so one step per position.
macro_rules! steps {
    ($($name:ident),* $(,)?) => {
        $(
            #[halo::saga_step(compensate = undo)]
            async fn $name(_ctx: &StepCtx, n: u64) -> Result<u64, halo::Error> {
                Ok(n + 1)
            }
        )*

        /// The saga of the first `n` steps.
        fn saga_of(n: usize) -> Saga<u64> {
            let mut saga = Saga::<u64>::new("bench");
            let mut left = n;
            $(
                if left > 0 {
                    saga = saga.step($name);
                    left -= 1;
                }
            )*
            assert_eq!(left, 0, "at most 16 steps");
            saga
        }
    };
}

steps!(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15);

#[halo::saga_step]
async fn fails(_ctx: &StepCtx, _n: u64) -> Result<u64, halo::Error> {
    Err(halo::Error::conflict("no seats").with_code("NoSeats"))
}

const SIZES: [usize; 3] = [1, 4, 16];
const WAITS: [&str; 2] = ["cooldown-1", "cooldown-2"];

/// What the bench handler runs: the saga, on the execution or on a memory
/// log, then `waits` durable waits.
struct Bench {
    saga: Saga<u64>,
    durable: bool,
    waits: usize,
    /// The memory log of the current execution (a fresh one per
    /// execution, the same for its invocations).
    log: Mutex<Arc<MemorySagaLog>>,
}

impl Bench {
    fn new(saga: Saga<u64>, durable: bool, waits: usize) -> Arc<Bench> {
        Arc::new(Bench { saga, durable, waits, log: Mutex::new(Arc::new(MemorySagaLog::new())) })
    }

    fn fresh_log(&self) {
        *self.log.lock().unwrap() = Arc::new(MemorySagaLog::new());
    }
}

async fn saga_then_wait(input: u64, _ctx: &halo::Ctx, execution: &Execution<Arc<Bench>>) -> Result<u64, halo::Error> {
    let bench = execution.state();
    let output = if bench.durable {
        bench.saga.run_durable(execution.context(), "bench-saga", input).await?
    } else {
        let log = bench.log.lock().unwrap().clone();
        bench.saga.run(&*log, "bench-saga", input).await?
    };
    for name in &WAITS[..bench.waits] {
        execution.wait(Duration::from_secs(1)).name(*name).await.map_err(halo::Error::internal)?;
    }
    Ok(output)
}

/// A metrics configuration writing every line to a function that only
/// looks at it (no EMF on stdout).
fn bench_options() -> halo::Options {
    let sink = halo::metrics::MetricsOutput::Custom(Arc::new(|line: &[u8]| {
        black_box(line);
    }));
    let metrics = halo::metrics::MetricsConfig::from_env().namespace("Bench").service("bench").output(sink);
    halo::Options::from_env().metrics(metrics)
}

fn event() -> Box<RawValue> {
    serde_json::value::to_raw_value(&0u64).unwrap()
}

/// One whole execution on `runner`; its output.
async fn execute<H, F>(runner: &LocalRunner, bench: &Bench, run: &H) -> u64
where
    H: Fn(Box<RawValue>, DurableContext) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<Box<RawValue>, BoxError>> + Send,
{
    bench.fresh_log();
    let result = runner.run(run.clone(), event()).await;
    assert!(result.is_success(), "{:?} {:?}", result.error_type(), result.error_message());
    serde_json::from_str(result.output().unwrap().get()).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

// ---------------------------------------------------------------------
// Checkpoints, counted from the SDK's lifecycle events.

/// One lifecycle event: its name, operation type and name.
#[derive(Default)]
struct Lifecycle {
    event: String,
    op_type: String,
    op_name: String,
}

impl Visit for Lifecycle {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "operationType" => self.op_type = value.to_owned(),
            "operationName" => self.op_name = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.event = format!("{value:?}");
        }
    }
}

/// Keeps every lifecycle event (any level, so the SDK's DEBUG ones too).
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Lifecycle>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == TARGET {
            let mut lifecycle = Lifecycle::default();
            event.record(&mut lifecycle);
            self.0.lock().unwrap().push(lifecycle);
        }
    }
}

/// The record-transition events: one per operation update the backend
/// accepted (a checkpoint write).
const WRITES: [&str; 4] = ["operation_started", "operation_succeeded", "operation_failed", "operation_retry_scheduled"];

fn count_case(label: &str, saga: Saga<u64>, steps: usize, compensations: usize) {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry().with(recorder.clone());
    let bench = Bench::new(saga, true, 1);
    let run = handler(Arc::clone(&bench), saga_then_wait, &bench_options());
    let result =
        tracing::subscriber::with_default(subscriber, || runtime().block_on(LocalRunner::new().run(run, event())));
    let events = recorder.0.lock().unwrap();
    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events.iter() {
        *by_name.entry(e.event.as_str()).or_default() += 1;
    }
    let writes: usize = WRITES.iter().map(|w| by_name.get(w).copied().unwrap_or(0)).sum();
    let saga_writes = events.iter().filter(|e| WRITES.contains(&e.event.as_str()) && e.op_type == "Step").count();
    let compensation_writes =
        events.iter().filter(|e| WRITES.contains(&e.event.as_str()) && e.op_name.ends_with(":compensate")).count();
    let step_writes = saga_writes - compensation_writes;
    println!("checkpoints: {label}");
    let outcome = if result.is_success() {
        format!("succeeded with {}", result.output().unwrap().get())
    } else {
        format!("failed: {:?}: {:?}", result.error_type(), result.error_message())
    };
    println!("  execution {outcome}, {} invocation(s)", result.invocation_count());
    println!("  lifecycle events: {by_name:?}");
    println!(
        "  checkpoint writes (started + succeeded + failed + retry_scheduled): {writes}: \
         {step_writes} for {steps} step(s) = {:.1}/step, {compensation_writes} for {compensations} compensation(s){}, \
         {} for the wait(s)",
        step_writes as f64 / steps as f64,
        if compensations > 0 {
            format!(" = {:.1}/compensation", compensation_writes as f64 / compensations as f64)
        } else {
            String::new()
        },
        writes - saga_writes,
    );
    let ops: Vec<String> = result
        .operations()
        .iter()
        .map(|op| format!("{}:{}={}", op.op_type(), op.name().unwrap_or("-"), op.status()))
        .collect();
    println!("  operations(): {} [{}]", ops.len(), ops.join(", "));
    println!(
        "  halo's DynamoDB log, same saga: {} PutItem + 1 GetItem (the load){}",
        if compensations == 0 { steps + 1 } else { steps + compensations + 1 },
        if compensations == 0 {
            " (N + 1 writes)"
        } else {
            " (one write per transition that starts an action, one for the outcome)"
        },
    );
}

/// Prints the checkpoints a 3-step saga costs, committing and rolling back
/// (its third step fails: two compensations).
fn count_checkpoints() {
    count_case("3-step saga, committed, then a wait", saga_of(3), 3, 0);
    count_case("3-step saga, 3rd step fails, 2 compensations", saga_of(2).step(fails), 3, 2);
}

// ---------------------------------------------------------------------
// Timings.

/// Per-iteration times (ns) of every sample criterion took, per case.
static SAMPLES: Mutex<BTreeMap<String, Vec<f64>>> = Mutex::new(BTreeMap::new());

const SAMPLE_SIZE: usize = 20;

fn record(case: &str, per_iter: Duration) {
    SAMPLES.lock().unwrap().entry(case.to_owned()).or_default().push(per_iter.as_nanos() as f64);
}

/// The median per-iteration time of the last `SAMPLE_SIZE` samples
/// (criterion's measurement; the earlier ones are its warm-up), in µs.
fn median_us(case: &str) -> Option<f64> {
    let samples = SAMPLES.lock().unwrap();
    let all = samples.get(case)?;
    let mut last: Vec<f64> = all[all.len().saturating_sub(SAMPLE_SIZE)..].to_vec();
    last.sort_by(f64::total_cmp);
    let mid = last.len() / 2;
    let median = if last.len().is_multiple_of(2) { (last[mid - 1] + last[mid]) / 2.0 } else { last[mid] };
    Some(median / 1000.0)
}

/// Least-squares slope of `y` over `SIZES`.
fn slope(y: &[f64]) -> f64 {
    let x: Vec<f64> = SIZES.iter().map(|&n| n as f64).collect();
    let (mx, my) = (x.iter().sum::<f64>() / x.len() as f64, y.iter().sum::<f64>() / y.len() as f64);
    let num: f64 = x.iter().zip(y).map(|(x, y)| (x - mx) * (y - my)).sum();
    let den: f64 = x.iter().map(|x| (x - mx).powi(2)).sum();
    num / den
}

/// The bare SDK: the same N steps as `ctx.step` calls (named, input + 1)
/// and the wait, no halo stack, no saga.
async fn sdk_steps(n: u64, ctx: DurableContext) -> Result<u64, BoxError> {
    let mut value = 0u64;
    for i in 0..n {
        value = ctx.step(move |_| async move { Ok(value + 1) }).name(format!("s{i}")).await?;
    }
    ctx.wait(Duration::from_secs(1)).name(WAITS[0]).await?;
    Ok(value)
}

/// Measures `execution` as the case `name/n`, keeping each sample's
/// per-iteration time for the slopes.
fn measure(group: &mut BenchmarkGroup<'_, WallTime>, name: &str, n: usize, mut execution: impl FnMut() -> u64) {
    assert_eq!(execution(), n as u64, "{name}/{n}");
    let case = format!("{name}/{n}");
    group.bench_with_input(BenchmarkId::new(name, n), &n, |b, _| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                black_box(execution());
            }
            let elapsed = start.elapsed();
            record(&case, elapsed / u32::try_from(iters).unwrap_or(u32::MAX));
            elapsed
        })
    });
}

fn durable_saga(c: &mut Criterion) {
    let runtime = runtime();
    let mut group = c.benchmark_group("durable_saga");
    group
        .sample_size(SAMPLE_SIZE)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_millis(2500));
    for n in SIZES {
        let runner = LocalRunner::new().single_page();
        measure(&mut group, "sdk", n, || {
            let result = runtime.block_on(runner.run(sdk_steps, n as u64));
            assert!(result.is_success(), "{:?}", result.error_message());
            *result.output().unwrap()
        });
    }
    let cases: [(&str, bool, usize, bool); 4] = [
        ("memory", false, 1, true),
        ("durable", true, 1, true),
        ("durable_replay2", true, 2, true),
        ("durable_paged", true, 1, false),
    ];
    for (name, durable, waits, single_page) in cases {
        for n in SIZES {
            let bench = Bench::new(saga_of(n), durable, waits);
            let run = handler(Arc::clone(&bench), saga_then_wait, &bench_options());
            let runner = if single_page { LocalRunner::new().single_page() } else { LocalRunner::new() };
            measure(&mut group, name, n, || runtime.block_on(execute(&runner, &bench, &run)));
        }
    }
    group.finish();
}

async fn noop_durable(n: u64, _ctx: &halo::Ctx, _execution: &Execution) -> Result<u64, halo::Error> {
    Ok(n)
}

async fn noop_plain(n: u64, _ctx: &halo::Ctx) -> Result<u64, halo::Error> {
    Ok(n)
}

fn init(c: &mut Criterion) {
    let mut group = c.benchmark_group("init");
    group.sample_size(SAMPLE_SIZE).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    group.bench_function("options_from_env", |b| b.iter(|| black_box(halo::Options::from_env())));
    let options = halo::Options::from_env();
    group.bench_function("durable_handler", |b| b.iter(|| black_box(handler((), noop_durable, black_box(&options)))));
    group.bench_function("plain_stack", |b| {
        b.iter(|| {
            black_box(halo::test_support::stack(
                halo::test_support::HandlerService::new(noop_plain),
                black_box(&options),
            ))
        })
    });
    group.finish();
}

fn print_slopes() {
    let medians =
        |name: &str| -> Option<Vec<f64>> { SIZES.iter().map(|n| median_us(&format!("{name}/{n}"))).collect() };
    println!("\nmedians (µs per execution) and slopes (µs per step, least squares over N = {SIZES:?}):");
    for name in ["sdk", "memory", "durable", "durable_replay2", "durable_paged"] {
        if let Some(y) = medians(name) {
            let cells: Vec<String> = SIZES.iter().zip(&y).map(|(n, t)| format!("N={n}: {t:.1}")).collect();
            println!("  {name:<16} {}  slope {:.2} µs/step", cells.join("  "), slope(&y));
        }
    }
    if let (Some(one), Some(two)) = (medians("durable"), medians("durable_replay2")) {
        let extra: Vec<f64> = one.iter().zip(&two).map(|(a, b)| b - a).collect();
        println!("  replay of one completed step (slope of durable_replay2 − durable): {:.2} µs/step", slope(&extra));
    }
    if let (Some(sdk), Some(durable)) = (medians("sdk"), medians("durable")) {
        println!(
            "  halo (stack + saga) over the bare SDK (slope of durable − sdk): {:.2} µs/step",
            slope(&durable) - slope(&sdk)
        );
    }
    if let (Some(memory), Some(durable)) = (medians("memory"), medians("durable")) {
        println!(
            "  durable over memory log (slope of durable − memory: 2 checkpoint writes + 1 replay − the log's write): {:.2} µs/step",
            slope(&durable) - slope(&memory)
        );
    }
}

fn main() {
    // The first construction in this process (cold: nothing initialised yet).
    let start = Instant::now();
    let options = halo::Options::from_env();
    let first = handler((), noop_durable, &options);
    let cold = start.elapsed();
    black_box(&first);
    println!("init: first Options::from_env() + durable_execution::handler(...) in this process: {cold:?}");

    count_checkpoints();

    logger::install_logger();

    let mut criterion = Criterion::default().configure_from_args();
    durable_saga(&mut criterion);
    init(&mut criterion);
    criterion.final_summary();
    print_slopes();
}
