//! Saga overhead per step with the in-memory log.
//!
//! `cargo bench -p halo-lambda --bench saga`
//!
//! - `direct/N`: the N trivial steps called one after the other, no saga;
//! - `saga/N`: the same steps as a saga on a fresh `MemorySagaLog` (N + 1
//!   record writes, JSON (de)serialisation of every input and output, the
//!   lease), with halo's JSON logger writing every transition line to a
//!   sink, inside an invocation context.
//!
//! - `saga_moto/N`: the same saga on a `DynamoDbSagaLog` against moto on
//!   loopback (N + 1 `PutItem`s and one `GetItem` per saga): what the
//!   durable log costs when each write is a network round trip.
//!
//! Overhead per step = (saga/N − direct/N) / N. DynamoDB writes per saga
//! are counted on the wire against moto by
//! `cargo test -p halo-lambda --test saga_moto dynamodb_writes_per_saga -- --nocapture`.

#[path = "support/logger.rs"]
mod logger;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use halo::saga::{DynamoDbSagaLog, MemorySagaLog, Saga, Step, StepCtx};
use halo_test_support::moto::{Moto, unique_name};

struct AddOne;

impl Step for AddOne {
    type Input = u64;
    type Output = u64;
    type Error = halo::Error;

    fn name(&self) -> &str {
        "add_one"
    }

    async fn run(&self, _ctx: &StepCtx, n: u64) -> Result<u64, halo::Error> {
        Ok(n + 1)
    }
}

/// Step names must be unique within a saga.
struct Named(&'static str);

impl Step for Named {
    type Input = u64;
    type Output = u64;
    type Error = halo::Error;

    fn name(&self) -> &str {
        self.0
    }

    async fn run(&self, ctx: &StepCtx, n: u64) -> Result<u64, halo::Error> {
        AddOne.run(ctx, n).await
    }

    fn has_compensation(&self) -> bool {
        true
    }
}

const NAMES: [&str; 10] = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"];

fn saga_of(n: usize) -> Saga<u64> {
    NAMES[..n].iter().fold(Saga::<u64>::new("bench"), |saga, name| saga.step(Named(name)))
}

fn saga(c: &mut Criterion) {
    logger::install_logger();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut group = c.benchmark_group("saga");
    group.measurement_time(Duration::from_secs(3));
    for n in [1usize, 3, 10] {
        group.bench_with_input(BenchmarkId::new("direct", n), &n, |b, &n| {
            let ctx = StepCtx::for_test("id", "s");
            b.iter(|| {
                runtime.block_on(async {
                    let mut value = 0u64;
                    for name in &NAMES[..n] {
                        value = Named(name).run(&ctx, black_box(value)).await.unwrap();
                    }
                    black_box(value)
                })
            })
        });
        let saga = saga_of(n);
        group.bench_with_input(BenchmarkId::new("saga", n), &n, |b, _| {
            let ctx = halo::Ctx::builder("bench-request").timeout(Duration::from_secs(3600)).build();
            b.iter(|| {
                let log = MemorySagaLog::new();
                let out = runtime.block_on(ctx.clone().scope(saga.run(&log, "bench-saga", black_box(0))));
                black_box(out.unwrap())
            })
        });
    }
    group.finish();

    let moto = Moto::start();
    let log = runtime.block_on(async {
        let log = DynamoDbSagaLog::new(aws_sdk_dynamodb::Client::new(&moto.sdk_config().await), unique_name("bench"));
        log.create_table().await.unwrap();
        log
    });
    let mut group = c.benchmark_group("saga_moto");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    let ctx = halo::Ctx::builder("bench-request").timeout(Duration::from_secs(3600)).build();
    for n in [3usize, 10] {
        let saga = saga_of(n);
        let mut next = 0u64;
        group.bench_with_input(BenchmarkId::new("saga", n), &n, |b, _| {
            b.iter(|| {
                next += 1;
                let id = format!("bench-{n}-{next}");
                let out = runtime.block_on(ctx.clone().scope(saga.run(&log, &id, black_box(0))));
                black_box(out.unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, saga);
criterion_main!(benches);
