//! A halo binary's `serve` mode (its axum router as a local HTTP server)
//! on a free loopback port, and HTTP/1.1 requests to it.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// `<binary> serve --port <free port>` outside Lambda, killed when dropped.
#[derive(Debug)]
pub struct LocalServer {
    child: Child,
    port: u16,
}

/// What a request to the local server got back.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The status line and headers, lower-cased.
    pub head: String,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: Value,
}

impl LocalServer {
    /// Starts `binary` in `serve` mode and waits until it listens.
    ///
    /// # Panics
    ///
    /// When it does not start or listen within 10 seconds.
    pub async fn start(binary: &Path) -> LocalServer {
        LocalServer::start_with_env(binary, &[]).await
    }

    /// [`LocalServer::start`] with the variables `env` added.
    ///
    /// # Panics
    ///
    /// When it does not start or listen within 10 seconds.
    pub async fn start_with_env(binary: &Path, env: &[(&str, &str)]) -> LocalServer {
        let port = crate::free_port();
        let child = Command::new(binary)
            .args(["serve", "--port", &port.to_string()])
            .envs(env.iter().copied())
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let server = LocalServer { child, port };
        for _ in 0..400 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("{} does not listen on port {port}", binary.display());
    }

    /// One HTTP/1.1 request with a JSON `body` and `headers`.
    ///
    /// # Panics
    ///
    /// When the server does not answer with an HTTP response.
    pub async fn request(&self, method: &str, path: &str, body: Option<&str>, headers: &[(&str, &str)]) -> Answer {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.expect("connect");
        let body = body.unwrap_or("");
        let mut request = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n");
        for (name, value) in std::iter::once(&("content-type", "application/json")).chain(headers) {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str(&format!("content-length: {}\r\n\r\n{body}", body.len()));
        stream.write_all(request.as_bytes()).await.expect("send the request");
        let mut response = String::new();
        stream.read_to_string(&mut response).await.expect("read the response");
        let (head, payload) = response.split_once("\r\n\r\n").expect("an HTTP response");
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status code");
        Answer { status, head: head.to_lowercase(), body: serde_json::from_str(payload).unwrap_or(Value::Null) }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
