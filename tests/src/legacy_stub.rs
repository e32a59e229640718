//! A legacy HTTP service (Python's standard library, `tests/legacy-stub`)
//! on loopback, for the strangler façade's tests, and a raw HTTP/1.1
//! client that sends a request target and headers exactly as written.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The legacy service; stopped when dropped.
#[derive(Debug)]
pub struct LegacyStub {
    child: Child,
    /// Closing it stops the service.
    stdin: Option<ChildStdin>,
    port: u16,
}

impl LegacyStub {
    /// Starts the service and waits for its port.
    ///
    /// # Panics
    ///
    /// When `.venv/bin/python` cannot start it.
    pub fn start() -> LegacyStub {
        let script = crate::workspace_root().join("tests/legacy-stub/legacy_stub.py");
        let mut child = Command::new(crate::moto::python_path())
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the legacy stub with .venv/bin/python");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its stdout")).read_line(&mut line).expect("its port");
        let port = line.trim().parse().unwrap_or_else(|_| panic!("the legacy stub printed {line:?}, not a port"));
        LegacyStub { stdin: child.stdin.take(), child, port }
    }

    /// Its port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its base URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many requests it got for `path` (without the query).
    pub async fn requests_to(&self, path: &str) -> u64 {
        self.stats().await["requests"][path].as_u64().unwrap_or(0)
    }

    /// How many orders it stored.
    pub async fn orders(&self) -> u64 {
        self.stats().await["orders"].as_u64().unwrap_or(0)
    }

    async fn stats(&self) -> Value {
        let answer = send(self.port, "GET", "/_stats", &[], b"").await;
        serde_json::from_slice(&answer.body).expect("its statistics")
    }

    /// Stops it (the legacy system goes down; its port refuses connections).
    pub fn stop(&mut self) {
        self.stdin.take();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LegacyStub {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An answer as it came over the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAnswer {
    /// The status code.
    pub status: u16,
    /// Every header, names lower-cased, in order, repeated ones kept.
    pub headers: Vec<(String, String)>,
    /// The body's bytes.
    pub body: Vec<u8>,
}

impl RawAnswer {
    /// Every value of the header `name`.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, String::from_utf8_lossy(&self.body)))
    }
}

/// Sends `method target` with `headers` and `body` to 127.0.0.1:`port`
/// over one connection, exactly as written (no normalisation of the
/// target), and reads the whole answer.
///
/// # Panics
///
/// When the connection fails or the answer is not HTTP/1.1 with a
/// `content-length` or no body.
pub async fn send(port: u16, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> RawAnswer {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let mut request = format!("{method} {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await.expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read the answer");
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    assert!(
        !headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked")),
        "a chunked answer: this client reads content-length bodies only"
    );
    RawAnswer { status, headers, body: response[split + 4..].to_vec() }
}
