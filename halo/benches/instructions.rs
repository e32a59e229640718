//! Instruction counts per invocation, stable whatever else the machine does:
//! run under callgrind by `scripts/bench-instructions.sh`, which runs each
//! path twice (N and 2N iterations) and reports the difference divided by N,
//! so set-up costs cancel out.
//!
//! `HALO_BENCH_PATH` picks the path (`bare`, `halo`, `halo_error`,
//! `halo_metrics`: the full stack with three metrics, one dimension and
//! the cold-start line, `scan`: the event scan alone,
//! `halo::test_support::detect`, or the decoding of the event into
//! `ApiGatewayProxyRequest` alone: `decode_lambda` the way lambda_runtime
//! does it, tracking the field path, `decode_halo` with
//! `halo::test_support::decode_event`) and
//! `HALO_BENCH_ITERS` the number of invocations (default 1, which is what
//! `cargo test --benches` runs: a smoke test of every path).
//!
//! `HALO_BENCH_PATH=paired` is not for callgrind: it times `bare` and `halo`
//! in alternating batches of 2,000 invocations, `HALO_BENCH_ITERS` pairs of
//! them, and prints the median of the per-batch differences (a drift of
//! the machine's speed hits both sides of a pair, so it cancels out):
//! `cargo bench -p halo-lambda --bench instructions --no-run`, then run the
//! binary it names with `HALO_BENCH_PATH=paired HALO_BENCH_ITERS=100`.

#[path = "support/invocation.rs"]
mod invocation;
#[path = "support/logger.rs"]
mod logger;

use std::hint::black_box;

use aws_lambda_events::apigw::ApiGatewayProxyRequest;

fn main() {
    logger::install_logger();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
    let _runtime = runtime.enter();
    let iterations: u64 = std::env::var("HALO_BENCH_ITERS").ok().and_then(|n| n.parse().ok()).unwrap_or(1);
    let path = std::env::var("HALO_BENCH_PATH").unwrap_or_default();
    let stacks = invocation::Stacks::new();
    let bytes = invocation::EVENT.as_bytes();
    if path == "paired" {
        // Bare and halo in alternating batches; the median of the per-batch
        // differences (drift of the machine cancels out).
        let batch = 2000;
        let mut diffs = Vec::new();
        for _ in 0..iterations.max(1) {
            let start = std::time::Instant::now();
            for _ in 0..batch {
                drop(black_box(invocation::bare(bytes)));
            }
            let bare = start.elapsed();
            let start = std::time::Instant::now();
            for _ in 0..batch {
                drop(black_box(stacks.halo(bytes)));
            }
            let halo = start.elapsed();
            diffs.push((halo.as_nanos() as f64 - bare.as_nanos() as f64) / f64::from(batch));
        }
        diffs.sort_by(f64::total_cmp);
        println!(
            "paired overhead: median {:.0} ns, quartiles {:.0}..{:.0} ns",
            diffs[diffs.len() / 2],
            diffs[diffs.len() / 4],
            diffs[3 * diffs.len() / 4]
        );
        return;
    }
    let paths: Vec<&str> =
        if path.is_empty() { vec!["bare", "halo", "halo_error", "halo_metrics"] } else { vec![path.as_str()] };
    for path in paths {
        for _ in 0..iterations {
            match path {
                "bare" => drop(black_box(invocation::bare(bytes))),
                "halo" => drop(black_box(stacks.halo(bytes))),
                "halo_error" => drop(black_box(stacks.halo_error(bytes))),
                "halo_metrics" => drop(black_box(stacks.halo_metrics(bytes))),
                "scan" => drop(black_box(halo::test_support::detect(black_box(invocation::EVENT)))),
                "decode_lambda" => {
                    drop(black_box(invocation::lambda_decode::<ApiGatewayProxyRequest>(black_box(bytes))))
                }
                "decode_halo" => drop(black_box(halo::test_support::decode_event::<ApiGatewayProxyRequest>(
                    black_box(invocation::EVENT),
                ))),
                other => panic!(
                    "unknown HALO_BENCH_PATH {other:?}: bare, halo, halo_error, halo_metrics, scan, decode_lambda, decode_halo or paired"
                ),
            }
        }
    }
}
