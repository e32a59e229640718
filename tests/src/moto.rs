//! A moto server in server mode on a free loopback port.
//!
//! [`Moto::shared`] gives one server per test process (tests isolate their
//! state by unique table names and parameter paths); [`Moto::start`] a
//! dedicated one, stopped by its PID when dropped (for tests that stop the
//! emulator on purpose). The shared server is started through a small
//! watchdog that ends it when the test process goes away, however it ends.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{Region, SdkConfig};

/// How long moto may take to answer its first request.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs moto's server with its requests handled one at a time. moto's
/// DynamoDB checks a `ConditionExpression` and writes the item in two steps
/// with no lock, so two concurrent conditional writes on one key can both
/// succeed (real DynamoDB never lets that happen); tests of atomic claims
/// need the emulator to be atomic. Connections are still served by threads.
const SERIALIZED_MOTO: &str = "import sys, threading\n\
from moto.moto_server import werkzeug_app\n\
lock = threading.Lock()\n\
call = werkzeug_app.DomainDispatcherApplication.__call__\n\
def serialized(self, environ, start_response):\n    \
    with lock:\n        \
        return list(call(self, environ, start_response))\n\
werkzeug_app.DomainDispatcherApplication.__call__ = serialized\n\
from moto.server import main\n\
main(sys.argv[1:])\n";

/// A running moto server.
#[derive(Debug)]
pub struct Moto {
    port: u16,
    child: Mutex<Option<Child>>,
    /// Held open for the watchdog: closing it stops the server.
    _lifeline: Option<ChildStdin>,
}

/// Where the moto executable lives (`.venv/bin/moto_server` at the
/// workspace root, installed by `scripts/test.sh`).
pub fn moto_server_path() -> std::path::PathBuf {
    crate::workspace_root().join(".venv/bin/moto_server")
}

/// The Python of `.venv`, which has moto installed.
pub(crate) fn python_path() -> std::path::PathBuf {
    crate::workspace_root().join(".venv/bin/python")
}

impl Moto {
    /// The server shared by every test of this process, started on first use.
    pub fn shared() -> &'static Moto {
        static SHARED: OnceLock<Moto> = OnceLock::new();
        SHARED.get_or_init(|| Moto::spawn(true))
    }

    /// A dedicated server, stopped (by PID) when dropped.
    pub fn start() -> Moto {
        Moto::spawn(false)
    }

    fn spawn(watchdog: bool) -> Moto {
        let server = moto_server_path();
        assert!(server.exists(), "{} is missing: run scripts/test.sh (it installs moto into .venv)", server.display());
        let port = crate::free_port();
        let port_arg = port.to_string();
        let (child, lifeline) = if watchdog {
            let python = python_path();
            let args = ["-c", SERIALIZED_MOTO, "-H", "127.0.0.1", "-p", &port_arg];
            let (child, lifeline) = watched(&python, &args, "moto");
            (child, Some(lifeline))
        } else {
            let child = Command::new(python_path())
                .args(["-c", SERIALIZED_MOTO])
                .args(["-H", "127.0.0.1", "-p", &port_arg])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start moto_server");
            (child, None)
        };
        let moto = Moto { port, child: Mutex::new(Some(child)), _lifeline: lifeline };
        moto.wait_ready();
        moto
    }

    fn wait_ready(&self) {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if http_get(self.port, "/moto-api/").is_some_and(|status| status == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("moto did not answer on port {} within {READY_TIMEOUT:?}", self.port);
    }

    /// The port the server listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Environment variables that point an AWS SDK at this server only
    /// (region, fake credentials, no instance-metadata probing).
    pub fn env(&self) -> Vec<(String, String)> {
        sdk_env(&self.endpoint())
    }

    /// An SDK configuration that talks to this server only.
    pub async fn sdk_config(&self) -> SdkConfig {
        sdk_config(&self.endpoint()).await
    }

    /// Stops the server now (by PID) and waits for it to exit.
    pub fn stop(&self) {
        if let Some(mut child) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Moto {
    /// Starts a stopped dedicated server again on the same port, with empty
    /// state (an outage and recovery of the emulated service).
    pub fn restart(&self) {
        {
            let mut child = self.child.lock().unwrap_or_else(|p| p.into_inner());
            if child.is_some() {
                return;
            }
            let started = Command::new(python_path())
                .args(["-c", SERIALIZED_MOTO])
                .args(["-H", "127.0.0.1", "-p", &self.port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("restart moto_server");
            *child = Some(started);
        }
        self.wait_ready();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The environment an SDK pointed at `endpoint` needs in tests (see
/// CONTRIBUTING.md): test credentials, a region, no instance metadata.
pub fn sdk_env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT_URL", endpoint),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

/// An SDK configuration for `endpoint`, built explicitly: fixed region and
/// credentials, so nothing probes instance metadata.
pub async fn sdk_config(endpoint: &str) -> SdkConfig {
    halo::platform::aws_loader()
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "halo-tests"))
        .load()
        .await
}

/// A minimal HTTP/1.0 GET; returns the status code.
fn http_get(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

/// A name unique to this process and call, for tables and parameter paths.
pub fn unique_name(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Creates the on-demand table `name` whose partition key is the string
/// attribute `key` (an application's own table, beside halo's stores).
pub async fn create_string_key_table(client: &aws_sdk_dynamodb::Client, name: &str, key: &str) {
    string_key_table(client, name, key).send().await.unwrap_or_else(|e| panic!("create table {name}: {e:?}"));
}

/// The request creating the on-demand table `name` whose partition key is
/// the string attribute `key`.
pub(crate) fn string_key_table(
    client: &aws_sdk_dynamodb::Client,
    name: &str,
    key: &str,
) -> aws_sdk_dynamodb::operation::create_table::builders::CreateTableFluentBuilder {
    use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType};
    client
        .create_table()
        .table_name(name)
        .attribute_definitions(
            AttributeDefinition::builder().attribute_name(key).attribute_type(ScalarAttributeType::S).build().unwrap(),
        )
        .key_schema(KeySchemaElement::builder().attribute_name(key).key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
}

/// Starts `program` with `args` under a watchdog: a Python parent (from
/// `.venv`) that waits for EOF on its stdin (this test process ending,
/// however it ends) and then terminates the server. Returns the watchdog
/// and the pipe whose end stops it: keep the pipe while the server runs.
pub(crate) fn watched(program: &std::path::Path, args: &[&str], what: &str) -> (Child, ChildStdin) {
    let script = "import subprocess, sys\n\
                  p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
                  sys.stdin.read()\n\
                  p.terminate()\n\
                  p.wait()\n";
    let mut child = Command::new(python_path())
        .args(["-c", script])
        .arg(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start the {what} watchdog: {e}"));
    let lifeline = child.stdin.take().expect("a piped stdin");
    (child, lifeline)
}

/// Writes the `String` parameter `name` (overwriting it) on SSM.
pub async fn put_string_parameter(client: &aws_sdk_ssm::Client, name: &str, value: &str) {
    client
        .put_parameter()
        .name(name)
        .value(value)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .overwrite(true)
        .send()
        .await
        .unwrap_or_else(|e| panic!("put the parameter {name}: {e:?}"));
}
