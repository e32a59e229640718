//! Tracing through halo's full stack, exported to a real OTLP/HTTP
//! receiver on loopback (`halo_test_support::otlp`), decoded from the
//! protobuf a collector would get: the invocation's root continues the
//! caller's trace, saga steps, compensations and HTTP calls nest under it,
//! the downstream receives the client span's context, log lines carry the
//! ids, batch records link to their producers, overlapping invocations
//! keep their own traces, and a collector that is down or hangs costs at
//! most the export bound. (One process-wide tracer: one test binary.)

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use halo::log::{CapturedLines, JsonLayer};
use halo::saga::{MemorySagaLog, Saga, StepCtx};
use halo::test_support::HandlerService;
use halo::trace::TraceConfig;
use halo::{Ctx, Error, FunctionInfo, Invocation, Options};
use halo_test_support::http_stub::HttpStub;
use halo_test_support::otlp::{OtlpReceiver, ReceivedSpan};
use serde_json::{Value, json};
use tower::{Service, ServiceExt};
use tracing_subscriber::layer::SubscriberExt as _;

/// The bound of one export in this binary.
const EXPORT_BOUND: Duration = Duration::from_millis(200);

/// Tests read the collector's spans while it answers (shared); the test
/// that makes it fail holds it alone.
static COLLECTOR: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

struct Setup {
    receiver: OtlpReceiver,
    lines: CapturedLines,
}

static SETUP: LazyLock<Setup> = LazyLock::new(|| {
    let receiver = OtlpReceiver::start();
    let lines = CapturedLines::default();
    let config =
        TraceConfig::from_env().endpoint_base(receiver.endpoint()).service("tracing-test").export_timeout(EXPORT_BOUND);
    let layer = halo::trace::layer(&config).expect("tracing sets up once");
    let subscriber = tracing_subscriber::registry().with(JsonLayer::new(lines.clone())).with(layer);
    tracing::subscriber::set_global_default(subscriber).expect("the first subscriber");
    Setup { receiver, lines }
});

fn function() -> Arc<FunctionInfo> {
    let mut function = FunctionInfo::for_test();
    function.service = "trips".into();
    function.name = "book-trip".into();
    function.version = "7".into();
    function.memory_size = 256;
    Arc::new(function)
}

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:book-trip";

/// A random X-Ray root and its trace id in OTel's hex form.
fn xray_root() -> (String, String) {
    let hex = format!("{:032x}", fastrand::u128(..));
    (format!("1-{}-{}", &hex[..8], &hex[8..]), hex)
}

/// One invocation of `event` through the full stack with the X-Ray header
/// `xray`, then the flush halo does after each answer.
async fn invoke(
    service: &halo::InvocationService,
    request_id: &str,
    xray: Option<String>,
    event: Value,
) -> Result<Value, Error> {
    let ctx = Ctx::builder(request_id)
        .invoked_function_arn(ARN)
        .xray_trace_id(xray)
        .function(function())
        .timeout(Duration::from_secs(10))
        .build();
    let mut service = service.clone();
    let call = service.ready().await.unwrap().call(Invocation::new(event.to_string(), ctx));
    let result = call.await.map(|raw| serde_json::from_str(raw.get()).unwrap());
    halo::trace::flush().await;
    result
}

async fn spans_of(trace_id: &str, at_least: usize) -> Vec<ReceivedSpan> {
    let spans = SETUP
        .receiver
        .wait_until(Duration::from_secs(10), |spans| {
            spans.iter().filter(|s| s.trace_id == trace_id).count() >= at_least
        })
        .await;
    spans.into_iter().filter(|s| s.trace_id == trace_id).collect()
}

fn named<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| panic!("no span {name} in {spans:#?}"))
}

// ---- a saga with HTTP calls -------------------------------------------

#[derive(Clone, serde::Serialize, serde::Deserialize)]
struct Trip {
    id: String,
    stub: String,
}

#[halo::saga_step(compensate = cancel_hotel)]
async fn book_hotel(_ctx: &StepCtx, trip: Trip) -> Result<u16, Error> {
    let response = halo::http::Client::new()?.post(format!("{}/hotels", trip.stub)).send().await?;
    Ok(response.status().as_u16())
}

async fn cancel_hotel(_ctx: &StepCtx, trip: Trip, _booked: Option<u16>) -> Result<(), Error> {
    halo::http::Client::new()?.delete(format!("{}/hotels/1", trip.stub)).send().await?;
    Ok(())
}

#[halo::saga_step]
async fn book_flight(_ctx: &StepCtx, _trip: Trip) -> Result<(), Error> {
    Err(Error::unprocessable("no seats").with_code("NoSeats"))
}

async fn book_trip(trip: Trip, _ctx: &Ctx) -> Result<String, Error> {
    tracing::info!(trip_id = %trip.id, "booking");
    let saga = Saga::<Trip>::new("trip")
        .step_with(book_hotel, Trip::clone)
        .step_with(book_flight, |(trip, _): &(Trip, u16)| trip.clone());
    let id = trip.id.clone();
    saga.run(&MemorySagaLog::new(), &id, trip).await?;
    Ok("booked".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saga_s_steps_compensations_and_calls_nest_under_the_invocation_that_continues_the_xray_trace() {
    LazyLock::force(&SETUP);
    let _answering = COLLECTOR.read().await;
    let stub = HttpStub::start(|_, _| Some((201, "{}".into()))).await;
    let service = halo::test_support::stack(HandlerService::new(book_trip), &Options::from_env());
    let (root, trace_id) = xray_root();
    let xray = format!("Root={root};Parent=53995c3f42cd8ad8;Sampled=1");
    let err =
        invoke(&service, "req-saga", Some(xray), json!({ "id": "t-1", "stub": stub.base_url() })).await.unwrap_err();
    assert_eq!(err.code(), "SagaRolledBack");

    let spans = spans_of(&trace_id, 6).await;
    let invocation = named(&spans, "book-trip");
    assert_eq!(invocation.parent_span_id, "53995c3f42cd8ad8", "the X-Ray parent is the root's parent");
    assert_eq!(invocation.kind, 2, "server");
    assert_eq!(invocation.status_code, 2, "the invocation failed");
    for (key, value) in [
        ("faas.invocation_id", "req-saga"),
        ("faas.coldstart", "false"),
        ("faas.trigger", "other"),
        ("faas.name", "book-trip"),
        ("faas.version", "7"),
        ("cloud.resource_id", ARN),
        ("cloud.account.id", "123456789012"),
        ("error.type", "SagaRolledBack"),
    ] {
        assert_eq!(invocation.attribute(key), Some(value), "{key}: {invocation:#?}");
    }
    assert_eq!(invocation.service, "tracing-test");
    let hotel = named(&spans, "saga.step book_hotel");
    let flight = named(&spans, "saga.step book_flight");
    let cancel = named(&spans, "saga.compensation book_hotel");
    for step in [hotel, flight, cancel] {
        assert_eq!(step.parent_span_id, invocation.span_id, "{} under the invocation", step.name);
        assert_eq!(step.attribute("saga.name"), Some("trip"));
    }
    assert_eq!(flight.attribute("error.type"), Some("NoSeats"));
    let post = named(&spans, "POST");
    let delete = named(&spans, "DELETE");
    assert_eq!((post.parent_span_id.as_str(), post.kind), (hotel.span_id.as_str(), 3), "the call under its step");
    assert_eq!(delete.parent_span_id, cancel.span_id);
    assert_eq!(post.attribute("http.response.status_code"), Some("201"));
    assert_eq!(post.attribute("url.full"), Some(format!("{}/hotels", stub.base_url()).as_str()));

    // The downstream got the client span's context, in both formats.
    let requests = stub.requests();
    let booked = requests.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(booked.header("traceparent"), Some(format!("00-{trace_id}-{}-01", post.span_id)));
    let xray_out = booked.header("x-amzn-trace-id").unwrap();
    assert!(
        xray_out.contains(&format!("root={}", root.to_lowercase())) && xray_out.contains(&post.span_id),
        "{xray_out}"
    );

    // The log line inside the invocation carries its ids.
    let logged = SETUP.lines.json().into_iter().find(|l| l["message"] == "booking" && l["trip_id"] == "t-1").unwrap();
    assert_eq!(
        (logged["trace_id"].as_str(), logged["span_id"].as_str()),
        (Some(trace_id.as_str()), Some(invocation.span_id.as_str()))
    );
    assert!(logged.get("faas.trigger").is_none(), "span attributes are not log fields");
}

// ---- an HTTP event with a W3C traceparent -----------------------------

async fn unavailable(_event: Value, _ctx: &Ctx) -> Result<Value, Error> {
    Err(Error::unavailable("try later"))
}

#[tokio::test]
async fn an_http_event_s_traceparent_is_the_parent_and_its_status_is_recorded() {
    LazyLock::force(&SETUP);
    let _answering = COLLECTOR.read().await;
    let service = halo::test_support::stack(HandlerService::new(unavailable), &Options::from_env());
    let trace_id = format!("{:032x}", fastrand::u128(..));
    let event = json!({
        "resource": "/hello", "path": "/hello", "httpMethod": "GET",
        "headers": { "traceparent": format!("00-{trace_id}-b7ad6b7169203331-01") },
        "requestContext": { "requestId": "r-http", "stage": "prod" },
    });
    let (root, _) = xray_root();
    let answer = invoke(&service, "req-http", Some(format!("Root={root};Parent=1111111111111111;Sampled=1")), event)
        .await
        .unwrap();
    assert_eq!(answer["statusCode"], 503);
    let spans = spans_of(&trace_id, 1).await;
    let invocation = named(&spans, "book-trip");
    assert_eq!(invocation.parent_span_id, "b7ad6b7169203331", "the caller's traceparent wins over the X-Ray header");
    assert_eq!(invocation.attribute("faas.trigger"), Some("http"));
    assert_eq!(invocation.attribute("http.response.status_code"), Some("503"));
    assert_eq!(invocation.status_code, 2);
}

// ---- batch records link to their producers ----------------------------

async fn consume(batch: halo::batch::Sqs<Value>, _ctx: &Ctx) -> Result<halo::batch::BatchResponse, Error> {
    batch.process(&halo::batch::BatchOptions::default(), |_| async { Ok::<_, Error>(()) }).await
}

#[tokio::test]
async fn each_batch_record_has_a_span_linked_to_its_producer() {
    LazyLock::force(&SETUP);
    let _answering = COLLECTOR.read().await;
    let service = halo::test_support::stack(HandlerService::new(consume), &Options::from_env());
    let producer_w3c = format!("{:032x}", fastrand::u128(..));
    let (producer_root, producer_xray) = xray_root();
    let event = json!({ "Records": [
        { "messageId": "m-w3c", "body": "{}", "eventSource": "aws:sqs", "attributes": {},
          "messageAttributes": { "traceparent": { "stringValue": format!("00-{producer_w3c}-00f067aa0ba902b7-01"), "dataType": "String" } } },
        { "messageId": "m-xray", "body": "{}", "eventSource": "aws:sqs",
          "attributes": { "AWSTraceHeader": format!("Root={producer_root};Parent=0a0b0c0d0e0f0a0b;Sampled=1") }, "messageAttributes": {} },
    ]});
    let (root, trace_id) = xray_root();
    invoke(&service, "req-batch", Some(format!("Root={root};Parent=2222222222222222;Sampled=1")), event).await.unwrap();
    let spans = spans_of(&trace_id, 3).await;
    let invocation = named(&spans, "book-trip");
    assert_eq!((invocation.kind, invocation.attribute("faas.trigger")), (5, Some("pubsub")));
    let records: Vec<&ReceivedSpan> = spans.iter().filter(|s| s.name == "batch.record").collect();
    assert_eq!(records.len(), 2);
    for record in &records {
        assert_eq!(record.parent_span_id, invocation.span_id);
        assert_eq!(record.kind, 5, "consumer");
        let expected = match record.attribute("messaging.message.id") {
            Some("m-w3c") => (producer_w3c.clone(), "00f067aa0ba902b7".to_owned()),
            Some("m-xray") => (producer_xray.clone(), "0a0b0c0d0e0f0a0b".to_owned()),
            other => panic!("unexpected record {other:?}"),
        };
        assert_eq!(record.links, vec![expected], "linked to the producer");
    }
}

// ---- overlapping invocations ------------------------------------------

async fn nested(_event: Value, _ctx: &Ctx) -> Result<Value, Error> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    let step = tracing::info_span!("work");
    async {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    .instrument_in(step)
    .await;
    Ok(json!("done"))
}

trait InstrumentIn: std::future::Future + Sized {
    fn instrument_in(self, span: tracing::Span) -> tracing::instrument::Instrumented<Self> {
        tracing::Instrument::instrument(self, span)
    }
}

impl<F: std::future::Future> InstrumentIn for F {}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn overlapping_invocations_each_have_their_own_trace() {
    LazyLock::force(&SETUP);
    let _answering = COLLECTOR.read().await;
    let service = halo::test_support::stack(HandlerService::new(nested), &Options::from_env());
    let roots: Vec<(String, String)> = (0..64).map(|_| xray_root()).collect();
    let calls = roots.iter().enumerate().map(|(i, (root, _))| {
        let (service, xray) = (service.clone(), format!("Root={root};Parent=3333333333333333;Sampled=1"));
        tokio::spawn(async move { invoke(&service, &format!("req-{i}"), Some(xray), json!({})).await.unwrap() })
    });
    for call in futures_util::future::join_all(calls).await {
        call.unwrap();
    }
    for (i, (_, trace_id)) in roots.iter().enumerate() {
        let spans = spans_of(trace_id, 2).await;
        assert_eq!(spans.len(), 2, "the invocation and its one child: {spans:#?}");
        let invocation = named(&spans, "book-trip");
        assert_eq!(invocation.attribute("faas.invocation_id"), Some(format!("req-{i}").as_str()));
        assert_eq!(named(&spans, "work").parent_span_id, invocation.span_id);
    }
}

// ---- a collector that is down, then hangs, then recovers ---------------

#[tokio::test]
async fn a_collector_that_is_down_or_hangs_costs_at_most_the_bound_and_spans_flow_again() {
    LazyLock::force(&SETUP);
    let _alone = COLLECTOR.write().await;
    let service = halo::test_support::stack(HandlerService::new(nested), &Options::from_env());
    for (mode, label) in [(0, "down"), (1, "hanging")] {
        if mode == 0 {
            SETUP.receiver.refuse();
        } else {
            SETUP.receiver.hang();
        }
        let (root, _) = xray_root();
        let started = Instant::now();
        let answer =
            invoke(&service, label, Some(format!("Root={root};Parent=4444444444444444;Sampled=1")), json!({})).await;
        let took = started.elapsed();
        assert_eq!(answer.unwrap(), json!("done"), "the invocation succeeds with the collector {label}");
        // The handler's 10 ms, the export bound, and slack for a busy machine.
        assert!(took < Duration::from_millis(10) + EXPORT_BOUND + Duration::from_millis(300), "{label}: {took:?}");
    }
    SETUP.receiver.recover();
    let (root, trace_id) = xray_root();
    invoke(&service, "back", Some(format!("Root={root};Parent=5555555555555555;Sampled=1")), json!({})).await.unwrap();
    assert_eq!(spans_of(&trace_id, 2).await.len(), 2, "spans flow again once the collector is back");
    let warned = SETUP
        .lines
        .json()
        .into_iter()
        .filter(|l| l["message"].as_str().is_some_and(|m| m.starts_with("spans could not be exported")))
        .count();
    assert_eq!(warned, 1, "the failure is logged once per interval");
}

// ---- a durable execution ----------------------------------------------

/// Logs, waits (ending the first invocation), then runs a step.
#[cfg(feature = "durable-execution")]
async fn durable_trip(
    _event: Value,
    _ctx: &Ctx,
    execution: &halo::durable_execution::Execution,
) -> Result<String, Error> {
    tracing::info!("before the wait");
    execution.wait(Duration::from_secs(60)).name("settle").await.map_err(Error::internal)?;
    execution.step(|_| async { Ok(1u8) }).name("after").await.map_err(Error::internal)?;
    Ok("done".into())
}

#[cfg(feature = "durable-execution")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invocations_of_a_durable_execution_are_one_trace() {
    use halo::durable_execution::sdk::test_util::LocalRunner;
    LazyLock::force(&SETUP);
    let _answering = COLLECTOR.read().await;
    let run = halo::durable_execution::handler((), durable_trip, &Options::from_env());
    let result = LocalRunner::new().run(run, serde_json::value::to_raw_value(&json!({})).unwrap()).await;
    assert_eq!(result.invocation_count(), 2, "the wait ended the first invocation");
    halo::trace::flush().await;

    // The runner's executions all have its one ARN: the trace derived from it.
    let arn = "arn:aws:lambda:us-west-2:000000000000:function:local-test";
    let trace_id: String = {
        use md5::Digest as _;
        md5::Md5::digest(arn.as_bytes()).iter().map(|byte| format!("{byte:02x}")).collect()
    };
    let spans = spans_of(&trace_id, 2).await;
    let roots: Vec<&ReceivedSpan> = spans.iter().filter(|s| s.kind == 2).collect();
    assert!(roots.len() >= 2, "each invocation's root span is in the execution's trace: {spans:#?}");
    let parents: std::collections::BTreeSet<&str> = roots.iter().map(|s| s.parent_span_id.as_str()).collect();
    assert_eq!(parents.len(), 1, "under one parent: {roots:#?}");
}
