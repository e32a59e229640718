//! dynalite, the second DynamoDB: an implementation written by other people
//! to mimic DynamoDB's validation (the npm package `dynalite`, in memory),
//! on a free loopback port. The store contract suites run on it as well as
//! on moto, so halo's requests are checked by two emulators.
//!
//! It refuses what moto lets through (an unused `ExpressionAttributeValues`
//! entry), ignores `ReturnValuesOnConditionCheckFailure` (a failed
//! condition returns no item: halo's stores read it instead), and has no
//! `UpdateTimeToLive` (halo's `create_table` skips TTL there) and no
//! `TransactWriteItems`. `./scripts/test.sh` installs it with npm into
//! `.npm/` when missing.

use std::process::{Child, ChildStdin};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;

/// How long dynalite may take to answer after it starts.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A dynalite server on 127.0.0.1, stopped when the test process ends.
#[derive(Debug)]
pub struct Dynalite {
    port: u16,
    child: Mutex<Option<Child>>,
    /// The watchdog stops dynalite when this pipe closes (the test process
    /// ended, however it ended).
    _lifeline: Option<ChildStdin>,
}

/// Where the test command installs dynalite.
pub fn dynalite_path() -> std::path::PathBuf {
    crate::workspace_root().join(".npm/node_modules/.bin/dynalite")
}

impl Dynalite {
    /// The process's one dynalite, started on first use. Tests isolate
    /// themselves with unique table names ([`crate::moto::unique_name`]).
    pub fn shared() -> &'static Dynalite {
        static SHARED: OnceLock<Dynalite> = OnceLock::new();
        SHARED.get_or_init(Dynalite::spawn)
    }

    fn spawn() -> Dynalite {
        let server = dynalite_path();
        assert!(
            server.exists(),
            "{} is missing: run scripts/test.sh (it installs dynalite into .npm)",
            server.display()
        );
        let port = crate::free_port();
        let port_arg = port.to_string();
        // Tables are ACTIVE at once (dynalite keeps them CREATING 500 ms).
        let args = ["--host", "127.0.0.1", "--port", &port_arg, "--createTableMs", "0", "--deleteTableMs", "0"];
        let (child, lifeline) = crate::moto::watched(&server, &args, "dynalite");
        let dynalite = Dynalite { port, child: Mutex::new(Some(child)), _lifeline: Some(lifeline) };
        dynalite.wait_ready();
        dynalite
    }

    fn wait_ready(&self) {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("dynalite did not listen on port {} within {READY_TIMEOUT:?}", self.port);
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// An SDK configuration for this server (see [`crate::moto::sdk_config`]).
    pub async fn sdk_config(&self) -> SdkConfig {
        crate::moto::sdk_config(&self.endpoint()).await
    }

    /// A DynamoDB client of this server.
    pub async fn client(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config().await)
    }
}

impl Drop for Dynalite {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
