//! Test support for halo's integration tests: real services on loopback.
//!
//! - [`moto`]: a moto server (DynamoDB, SSM, SQS, …) on a free loopback port,
//!   and an AWS SDK configuration that talks only to it.
//! - [`runtime_api`]: a Lambda Runtime API on loopback that feeds events to a
//!   real compiled function binary and records its answers.
//! - [`function`]: starts a compiled function binary against that API and
//!   collects its stderr log lines.
//! - [`http_stub`]: a programmable HTTP server on loopback standing for a
//!   downstream service.
//! - [`hostile`]: hostile client text for property-based tests.
//! - [`tcp_proxy`]: a loopback TCP proxy that cuts and restores the network
//!   to a real service (an outage that keeps the service's state).
//! - [`contracts`]: behaviour suites for halo's store traits (idempotency
//!   store, saga log, breaker store), to run against any implementation
//!   with [`store_contract_tests!`].

#[deny(missing_docs)]
pub mod contracts;
pub mod function;
pub mod hostile;
pub mod http_stub;
pub mod moto;
pub mod runtime_api;
pub mod sdk_requests;
pub mod tcp_proxy;

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
