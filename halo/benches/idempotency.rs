//! Idempotency against moto over loopback: latency per call and DynamoDB
//! requests per call for a first call, a replay and a replay served by the
//! local cache.
//!
//! `cargo bench -p halo-lambda --bench idempotency` runs criterion, then prints a
//! summary (one JSON line per case). `HALO_BENCH_SUMMARY=N` skips criterion
//! and measures N calls per case; `HALO_BENCH_MOTO_ENDPOINT=http://127.0.0.1:PORT`
//! uses a running moto server instead of starting one (the comparison with
//! Powertools, `scripts/bench-idempotency-vs-powertools.sh`, does both).
//!
//! The payload is an API Gateway REST event; the key is `/body/payment_id`
//! and `/body/amount` is validated, as in `examples/idempotent-payments`.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use criterion::{Criterion, criterion_group};
use halo::Ctx;
use halo::idempotency::{DynamoDbIdempotencyStore, Idempotency, IdempotencyConfig};
use halo_test_support::moto::{Moto, sdk_config, unique_name};
use halo_test_support::sdk_requests::RequestCounter;
use serde_json::{Value, json};

const EVENT: &str = include_str!("../../examples/idempotent-payments/events/charge.json");

struct Setup {
    runtime: tokio::runtime::Runtime,
    client: aws_sdk_dynamodb::Client,
    table: String,
    store: DynamoDbIdempotencyStore,
    counter: RequestCounter,
    plain: Idempotency,
    cached: Idempotency,
    ctx: Ctx,
    next_id: AtomicU64,
    _moto: Option<Moto>,
}

impl Setup {
    fn new() -> Setup {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (endpoint, moto) = match std::env::var("HALO_BENCH_MOTO_ENDPOINT") {
            Ok(endpoint) => (endpoint, None),
            Err(_) => {
                let moto = Moto::start();
                (moto.endpoint(), Some(moto))
            }
        };
        let counter = RequestCounter::default();
        let table = unique_name("bench-halo");
        let (client, store) = runtime.block_on(async {
            let config = aws_sdk_dynamodb::config::Builder::from(&sdk_config(&endpoint).await)
                .interceptor(counter.clone())
                .build();
            let client = aws_sdk_dynamodb::Client::from_conf(config);
            let store = DynamoDbIdempotencyStore::new(client.clone(), table.clone());
            store.create_table().await.unwrap();
            (client, store)
        });
        let config = IdempotencyConfig::new("charge").key(["/body/payment_id"]).validate(["/body/amount"]);
        Setup {
            runtime,
            client,
            table,
            store,
            counter,
            plain: Idempotency::new(config.clone()),
            cached: Idempotency::new(config.local_cache(1024)),
            ctx: Ctx::builder("bench").timeout(Duration::from_secs(3600)).build(),
            next_id: AtomicU64::new(0),
            _moto: moto,
        }
    }

    fn event(&self, payment_id: &str) -> ApiGatewayProxyRequest {
        let mut event: ApiGatewayProxyRequest = serde_json::from_str(EVENT).unwrap();
        event.body = Some(json!({ "payment_id": payment_id, "amount": 1299, "currency": "EUR" }).to_string());
        event
    }

    fn fresh_event(&self) -> ApiGatewayProxyRequest {
        self.event(&format!("pay-{}", self.next_id.fetch_add(1, Ordering::Relaxed)))
    }

    fn call(&self, idempotency: &Idempotency, event: &ApiGatewayProxyRequest) -> Value {
        let body = async { Ok::<_, halo::Error>(json!({ "statusCode": 201, "body": "{\"status\":\"succeeded\"}" })) };
        self.runtime.block_on(idempotency.run_with_store(&self.store, event, Some(&self.ctx), body)).unwrap()
    }

    /// The floor: one bare `GetItem` through the same client, no idempotency.
    fn one_request(&self) -> Value {
        let key = aws_sdk_dynamodb::types::AttributeValue::S("absent".into());
        let request = self.client.get_item().table_name(&self.table).key("id", key).consistent_read(true).send();
        let output = self.runtime.block_on(request).unwrap();
        json!(output.item().is_some())
    }
}

/// A named benchmark case: one call through the idempotency layer.
type Case<'a> = (&'static str, Box<dyn Fn() -> Value + 'a>);

fn cases(setup: &Setup) -> [Case<'_>; 4] {
    let replayed = setup.event("pay-replayed");
    setup.call(&setup.plain, &replayed);
    let cached = setup.event("pay-cached");
    setup.call(&setup.cached, &cached);
    setup.call(&setup.cached, &cached);
    [
        ("sdk_request_floor", Box::new(move || setup.one_request())),
        ("first_call", Box::new(move || setup.call(&setup.plain, &setup.fresh_event()))),
        ("replay", Box::new(move || setup.call(&setup.plain, &replayed))),
        ("replay_local_cache", Box::new(move || setup.call(&setup.cached, &cached))),
    ]
}

fn bench(c: &mut Criterion) {
    let setup = Setup::new();
    let mut group = c.benchmark_group("idempotency_moto");
    for (name, case) in cases(&setup) {
        group.bench_function(name, |b| b.iter(|| black_box(case())));
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = bench
}

/// Mean latency and DynamoDB requests per call over `calls` calls per case.
fn summary(calls: u32) {
    let setup = Setup::new();
    for (name, case) in cases(&setup) {
        for _ in 0..calls.min(20) {
            case(); // warm-up
        }
        setup.counter.reset();
        let started = Instant::now();
        for _ in 0..calls {
            black_box(case());
        }
        let elapsed = started.elapsed();
        let line = json!({
            "impl": "halo",
            "case": name,
            "calls": calls,
            "ms_per_call": (elapsed.as_secs_f64() * 1000.0 / f64::from(calls) * 1000.0).round() / 1000.0,
            "requests_per_call": setup.counter.total() as f64 / f64::from(calls),
        });
        println!("{line}");
    }
}

fn main() {
    match std::env::var("HALO_BENCH_SUMMARY").ok().and_then(|n| n.parse().ok()) {
        Some(calls) => summary(calls),
        None => {
            benches();
            Criterion::default().configure_from_args().final_summary();
            summary(300);
        }
    }
}
