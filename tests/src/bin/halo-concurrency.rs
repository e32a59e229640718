//! Lambda Managed Instances, measured: wall time of 64 invocations of a
//! handler that awaits a 20 ms timer (the fixture's `sleep`), served one at
//! a time and with `AWS_LAMBDA_MAX_CONCURRENCY=16`, in alternation, against
//! a loopback Runtime API; then the peak resident memory of hello-api
//! serving 64 invocations at once.
//!
//! ```text
//! cargo build --release -p halo-test-support --bins -p hello-api
//! target/release/halo-concurrency 5 target/release/halo-fixture target/release/hello-api
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use halo_test_support::function::FunctionProcess;
use halo_test_support::runtime_api::RuntimeApi;

const INVOCATIONS: usize = 64;
const TIMEOUT: Duration = Duration::from_secs(30);

/// The wall time of [`INVOCATIONS`] invocations of `event`, sent at once,
/// with `concurrency` slots (`None`: the variable unset).
async fn batch(binary: &Path, concurrency: Option<usize>, event: &serde_json::Value) -> Duration {
    let api = RuntimeApi::start().await;
    let value = concurrency.map(|n| n.to_string());
    let env: Vec<(&str, &str)> = value.iter().map(|v| ("AWS_LAMBDA_MAX_CONCURRENCY", v.as_str())).collect();
    let function = FunctionProcess::start(binary, &api, &env);
    assert!(api.wait_pending_next(concurrency.unwrap_or(1), TIMEOUT).await, "the function polls");
    // A warm-up invocation: the cold start is not part of the figure.
    assert!(api.invoke(event, TIMEOUT).await.success);
    let started = Instant::now();
    let outcomes = join_all((0..INVOCATIONS).map(|_| api.invoke(event, TIMEOUT))).await;
    let elapsed = started.elapsed();
    assert!(outcomes.iter().all(|o| o.success), "every invocation succeeded");
    drop(function);
    elapsed
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [runs, fixture, hello] = args.as_slice() else {
        eprintln!("usage: halo-concurrency RUNS FIXTURE_BINARY HELLO_API_BINARY");
        std::process::exit(2);
    };
    let runs: usize = runs.parse().expect("RUNS is a number");
    let sleep = serde_json::json!({ "action": "sleep", "ms": 20 });
    let (mut sequential, mut concurrent) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        sequential.push(batch(Path::new(fixture), None, &sleep).await);
        concurrent.push(batch(Path::new(fixture), Some(16), &sleep).await);
    }
    let (sequential, concurrent) = (median(sequential), median(concurrent));
    println!("{INVOCATIONS} invocations awaiting 20 ms, median of {runs} runs:");
    println!("  sequential (variable unset):      {:>8.1} ms", sequential.as_secs_f64() * 1e3);
    println!("  AWS_LAMBDA_MAX_CONCURRENCY=16:    {:>8.1} ms", concurrent.as_secs_f64() * 1e3);
    println!("  speed-up: {:.1}x (ideal 16x)", sequential.as_secs_f64() / concurrent.as_secs_f64());

    let api = RuntimeApi::start().await;
    let function = FunctionProcess::start(Path::new(hello), &api, &[("AWS_LAMBDA_MAX_CONCURRENCY", "64")]);
    assert!(api.wait_pending_next(64, TIMEOUT).await, "64 polls wait at once");
    let event: serde_json::Value =
        serde_json::from_str(include_str!("../../../examples/hello-api/events/get-hello.json")).expect("the event");
    for _ in 0..10 {
        let outcomes = join_all((0..INVOCATIONS).map(|_| api.invoke(&event, TIMEOUT))).await;
        assert!(outcomes.iter().all(|o| o.success));
    }
    let peak = function.peak_rss_kib().expect("VmHWM of the function");
    println!("hello-api, AWS_LAMBDA_MAX_CONCURRENCY=64, 10 x 64 invocations at once:");
    println!("  peak RSS {:.1} MiB (max_pending_next {})", peak as f64 / 1024.0, api.max_pending_next());
}
