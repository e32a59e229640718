//! Both of halo's TLS clients (the outgoing HTTP client and the AWS SDK's)
//! trust the system's root certificates, read once per process, and set
//! TLS up on their first request: a compiled binary calls an HTTPS server
//! on loopback whose certificate authority is the only root in its
//! `SSL_CERT_FILE`, and fails against it without that root.

use std::process::Command;

use halo_test_support::tls_stub::TlsStub;

fn run(stub: &TlsStub, ca_file: &std::path::Path) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_halo-fixture-https"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HTTPS_URL", &stub.url)
        .env("AWS_ENDPOINT_URL", &stub.url)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("SSL_CERT_FILE", ca_file)
        .env("SSL_CERT_DIR", "/nonexistent")
        .output()
        .expect("the fixture runs");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn both_clients_trust_the_system_roots_and_only_them() {
    let stub = TlsStub::start(r#"{"TableNames":[]}"#, "application/x-amz-json-1.0");
    let out = run(&stub, &stub.ca_file);
    assert!(out.contains("http ok 200"), "{out}");
    assert!(out.contains("dynamodb ok"), "{out}");
    assert_eq!(stub.requests(), 2);

    // Another authority's root only: neither client trusts the server.
    let other = TlsStub::start("{}", "application/json");
    let out = run(&stub, &other.ca_file);
    assert!(out.contains("http failed"), "{out}");
    assert!(out.contains("dynamodb failed"), "{out}");
    assert_eq!(stub.requests(), 2, "no request got through without trust");
}
