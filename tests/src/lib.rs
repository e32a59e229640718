//! Test support for halo's integration tests: real services on loopback.
//!
//! - [`cargo_lambda`]: cargo-lambda's emulator (`cargo lambda watch
//!   --only-lambda-apis`) on loopback, compiled function binaries started
//!   against it, `cargo lambda invoke` and its Function URL emulation.
//! - [`appconfig`]: AppConfig's control plane on moto, and the data plane
//!   moto lacks (the data API and the Lambda extension's endpoint) served
//!   over it on loopback.
//! - [`moto`]: a moto server (DynamoDB, SSM, SQS, …) on a free loopback port,
//!   and an AWS SDK configuration that talks only to it.
//! - [`pipeline`]: the fan-out pipeline's scenarios, run on SQS on moto
//!   and on the in-memory queue with [`fanout_pipeline_tests!`].
//! - [`runtime_api`]: a Lambda Runtime API on loopback that feeds events to a
//!   real compiled function binary and records its answers.
//! - [`function`]: starts a compiled function binary against that API and
//!   collects its stderr log lines.
//! - [`http_stub`]: a programmable HTTP server on loopback standing for a
//!   downstream service.
//! - [`otlp`]: an OpenTelemetry collector (OTLP/HTTP) on loopback that
//!   decodes and keeps the spans it receives.
//! - [`hostile`]: hostile client text for property-based tests.
//! - [`hostile_bodies`]: hostile request bodies run through a compiled
//!   example API; no error response may carry them back.
//! - [`dynalite`]: dynalite, a second DynamoDB (written by other people),
//!   on a free loopback port.
//! - [`fault_proxy`]: an HTTP proxy between the SDK and moto that injects
//!   faults (throttles, 500s, drops, and writes applied whose answers are
//!   lost), planned one by one or at random from a seed.
//! - [`sqs`]: SQS queues with dead-letter queues on moto, and their
//!   messages in the shape of Lambda's SQS event.
//! - [`tls_stub`]: an HTTPS server on loopback whose certificate
//!   authority is trusted through `SSL_CERT_FILE`.
//! - [`tcp_proxy`]: a loopback TCP proxy that cuts and restores the network
//!   to a real service (an outage that keeps the service's state).
//! - [`logs`]: halo's JSON lines of one test, captured in memory.
//! - [`emf`]: checks CloudWatch Embedded Metric Format lines against the
//!   EMF schema and CloudWatch's extraction rules.
//! - [`contracts`]: behaviour suites for halo's store traits (idempotency
//!   store, saga log, breaker store, fan-out store), to run against any
//!   implementation with [`store_contract_tests!`].
// Test harnesses hold trait objects and handles that have nothing to show
// in a Debug line, and this crate is not published.
#![allow(missing_debug_implementations)]

#[deny(missing_docs)]
pub mod appconfig;
pub mod cargo_lambda;
#[deny(missing_docs)]
pub mod contracts;
pub mod dynalite;
pub mod emf;
pub mod fault_proxy;
pub mod function;
pub mod hostile;
pub mod hostile_bodies;
pub mod http_stub;
pub mod legacy_stub;
pub mod local_server;
pub mod logs;
pub mod moto;
pub mod otlp;
pub mod pipeline;
pub mod runtime_api;
pub mod sdk_requests;
pub mod sqs;
pub mod streams;
pub mod tcp_proxy;
pub mod tls_stub;

/// The workspace's root directory.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// A free TCP port on 127.0.0.1 (bound, read and released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// What the macros of this crate name through `$crate`.
#[doc(hidden)]
pub mod __private {
    pub use halo;
}

/// The `q`-quantile (0 to 1, nearest rank) of `sorted` durations, in
/// microseconds: a benchmark's p50 or p99.
///
/// # Panics
///
/// When `sorted` is empty.
pub fn quantile_us(sorted: &[std::time::Duration], q: f64) -> u128 {
    sorted[((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1].as_micros()
}
