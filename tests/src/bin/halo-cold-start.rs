//! Cold start, measured from outside: the time from spawning a function
//! binary to its first Runtime API request (`GET .../invocation/next`),
//! on a loopback Runtime API, for several binaries in alternation.
//!
//! ```text
//! cargo build --release -p halo-test-support --bins
//! target/release/halo-cold-start 20 target/release/cold-start-bare target/release/cold-start-halo target/release/cold-start-halo-clients
//! ```
//!
//! Prints the median, minimum and maximum per binary, and each median's
//! difference from the first binary's. `BINARY@KEY=VALUE[@KEY=VALUE…]`
//! runs the binary with those variables too (e.g.
//! `cold-start-halo@OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318`
//! for the cost of setting up the span exporter).

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Spawns `binary` (with `@KEY=VALUE`, that variable set) against a
/// fresh loopback Runtime API and returns the time to its first request.
fn time_to_first_poll(spec: &str) -> Duration {
    let mut parts = spec.split('@');
    let binary = parts.next().unwrap_or(spec);
    let variables: Vec<(&str, &str)> = parts.filter_map(|v| v.split_once('=')).collect();
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let address = listener.local_addr().expect("its address").to_string();
    let started = Instant::now();
    let mut child = halo_test_support::function::lambda_command(Path::new(binary), &address)
        .env("HALO_IDEMPOTENCY_TABLE", "cold-start")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .envs(variables)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {binary}: {e}"));
    let (mut stream, _) = listener.accept().expect("the function connects");
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).expect("the function sends its request");
    let elapsed = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    elapsed
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(20);
    let binaries: Vec<String> = args.collect();
    if binaries.is_empty() {
        eprintln!("usage: halo-cold-start RUNS BINARY [BINARY ...]");
        std::process::exit(2);
    }
    for binary in &binaries {
        time_to_first_poll(binary); // warm the page cache
    }
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); binaries.len()];
    for _ in 0..runs {
        for (index, binary) in binaries.iter().enumerate() {
            times[index].push(time_to_first_poll(binary));
        }
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let base = median(times[0].clone());
    println!(
        "{:<60} {:>10} {:>10} {:>10} {:>12}",
        "binary (runs alternate)", "median ms", "min ms", "max ms", "vs first ms"
    );
    for (binary, samples) in binaries.iter().zip(times) {
        let mut parts = binary.split('@');
        let path = parts.next().unwrap_or(binary);
        let file = std::path::Path::new(path).file_name().map_or(path.to_owned(), |n| n.to_string_lossy().into_owned());
        let name = std::iter::once(file).chain(parts.map(str::to_owned)).collect::<Vec<_>>().join(" ");
        let (min, max) = (*samples.iter().min().expect("runs"), *samples.iter().max().expect("runs"));
        let med = median(samples);
        println!("{name:<60} {:>10.2} {:>10.2} {:>10.2} {:>+12.2}", ms(med), ms(min), ms(max), ms(med) - ms(base));
    }
}
