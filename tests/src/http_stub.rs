//! A programmable HTTP/1.1 server on a loopback port, for tests of code
//! that calls downstream services: it records every request and answers
//! as the test says, or hangs.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// One request the stub received.
#[derive(Debug, Clone)]
pub struct StubRequest {
    /// When it arrived.
    pub at: Instant,
    /// `GET`, `POST`, …
    pub method: String,
    /// The path with its query.
    pub path: String,
    /// The whole request head, lower-cased (for header checks).
    pub head: String,
}

impl StubRequest {
    /// The value of the header `name` (lower-case), if sent.
    pub fn header(&self, name: &str) -> Option<String> {
        let prefix = format!("{name}:");
        self.head.lines().find_map(|line| line.strip_prefix(&prefix).map(|v| v.trim().to_owned()))
    }
}

/// How the stub answers the `n`-th request (1-based): `(status, body)`, or
/// `None` to never answer.
pub type Reply = dyn Fn(usize, &StubRequest) -> Option<(u16, String)> + Send + Sync;

/// The stub server; clones share its request log.
#[derive(Clone)]
pub struct HttpStub {
    requests: Arc<Mutex<Vec<StubRequest>>>,
    base: String,
}

impl HttpStub {
    /// Starts the stub on `127.0.0.1:<free port>` with `reply` deciding each
    /// answer. It runs until the test's runtime ends.
    pub async fn start(
        reply: impl Fn(usize, &StubRequest) -> Option<(u16, String)> + Send + Sync + 'static,
    ) -> HttpStub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let base = format!("http://{}", listener.local_addr().expect("a local address"));
        let stub = HttpStub { requests: Arc::default(), base };
        let requests = stub.requests.clone();
        let reply: Arc<Reply> = Arc::new(reply);
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let (requests, reply) = (requests.clone(), reply.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let text = String::from_utf8_lossy(&head).into_owned();
                    let mut first = text.lines().next().unwrap_or_default().split(' ');
                    let request = StubRequest {
                        at: Instant::now(),
                        method: first.next().unwrap_or_default().to_owned(),
                        path: first.next().unwrap_or_default().to_owned(),
                        head: text.to_lowercase(),
                    };
                    let n = {
                        let mut requests = requests.lock().unwrap_or_else(|p| p.into_inner());
                        requests.push(request.clone());
                        requests.len()
                    };
                    match reply(n, &request) {
                        Some((status, body)) => {
                            let response = format!(
                                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            );
                            let _ = socket.write_all(response.as_bytes()).await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(3600)).await,
                    }
                });
            }
        });
        stub
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The URL of `path` on the stub.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// How many requests arrived.
    pub fn count(&self) -> usize {
        self.requests.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<StubRequest> {
        self.requests.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The time between consecutive requests.
    pub fn gaps(&self) -> Vec<Duration> {
        self.requests().windows(2).map(|w| w[1].at - w[0].at).collect()
    }
}
