//! halo's outgoing HTTP client against real loopback servers: retries with
//! backoff on 5xx, the per-attempt timeout and the invocation's budget, and
//! correlation headers on every attempt.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the stub server saw and how it answers.
#[derive(Clone, Default)]
struct Stub {
    requests: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Stub {
    /// Serves on a loopback port: answer `n` gets `reply(n)`, or no answer
    /// at all (a hang) for `None`.
    async fn start(reply: fn(usize) -> Option<(u16, &'static str)>) -> (Stub, String) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/resource", listener.local_addr().unwrap());
        let stub = Stub::default();
        let seen = stub.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else { return };
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 4096];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let n = {
                        let mut requests = seen.requests.lock().unwrap();
                        requests.push((Instant::now(), String::from_utf8_lossy(&head).to_lowercase()));
                        requests.len()
                    };
                    match reply(n) {
                        Some((status, body)) => {
                            let response = format!(
                                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                                body.len()
                            );
                            let _ = socket.write_all(response.as_bytes()).await;
                        }
                        None => tokio::time::sleep(Duration::from_secs(3600)).await,
                    }
                });
            }
        });
        (stub, url)
    }

    fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }

    fn gaps(&self) -> Vec<Duration> {
        let requests = self.requests.lock().unwrap();
        requests.windows(2).map(|w| w[1].0 - w[0].0).collect()
    }
}

fn invocation(timeout: Duration) -> halo::Ctx {
    let ctx = halo::Ctx::builder("req-1").timeout(timeout).timeout_margin(Duration::from_millis(200)).build();
    ctx.set_correlation(halo::correlation::Correlation {
        debug: true,
        ..halo::correlation::Correlation::new("corr-http-1")
    });
    ctx
}

fn client() -> halo::http::Client {
    halo::http::Client::builder()
        .max_attempts(4)
        .attempt_timeout(Duration::from_millis(300))
        .backoff(Duration::from_millis(40), Duration::from_millis(200))
        .build()
        .unwrap()
}

#[tokio::test]
async fn retries_5xx_with_backoff_then_succeeds_and_carries_the_correlation_headers() {
    let (stub, url) = Stub::start(|n| Some(if n <= 2 { (503, "busy") } else { (200, "ok") })).await;
    let ctx = invocation(Duration::from_secs(5));
    let response = ctx.scope(client().get(&url).send()).await.expect("the third attempt succeeds");
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "ok");
    assert_eq!(stub.count(), 3);
    for (_, head) in stub.requests.lock().unwrap().iter() {
        assert!(head.contains("x-correlation-id: corr-http-1"), "{head}");
        assert!(head.contains("debug-log-enabled: true"), "{head}");
        assert!(head.contains("x-user-agent: "), "{head}");
    }
    // Full jitter: each wait is at most its ceiling (40 ms, then 80 ms), plus scheduling slack.
    let gaps = stub.gaps();
    assert!(gaps[0] <= Duration::from_millis(40 + 60), "{gaps:?}");
    assert!(gaps[1] <= Duration::from_millis(80 + 60), "{gaps:?}");
}

#[tokio::test]
async fn gives_up_after_the_attempt_limit_with_an_upstream_error() {
    let (stub, url) = Stub::start(|_| Some((500, "down"))).await;
    let err = invocation(Duration::from_secs(5)).scope(client().get(&url).send()).await.unwrap_err();
    assert_eq!(err.status(), 502);
    assert_eq!(stub.count(), 4);
    assert!(err.source_chain().contains("last status 500"), "{}", err.source_chain());
}

#[tokio::test]
async fn does_not_retry_a_post_unless_asked() {
    let (stub, url) = Stub::start(|_| Some((503, "busy"))).await;
    let ctx = invocation(Duration::from_secs(5));
    let err =
        ctx.clone().scope(client().post(&url).json(&serde_json::json!({"a": 1})).unwrap().send()).await.unwrap_err();
    assert_eq!(err.status(), 502);
    assert_eq!(stub.count(), 1);
    let _ = ctx.scope(client().post(&url).retry_non_idempotent().send()).await;
    assert_eq!(stub.count(), 5, "1 + 4 attempts when retries are allowed");
}

#[tokio::test]
async fn four_xx_answers_are_returned_not_retried() {
    let (stub, url) = Stub::start(|_| Some((404, "nope"))).await;
    let response = invocation(Duration::from_secs(5)).scope(client().get(&url).send()).await.unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(stub.count(), 1);
}

#[tokio::test]
async fn a_hanging_server_times_out_within_the_invocation_budget() {
    let (stub, url) = Stub::start(|_| None).await;
    // 1 s to the deadline, 200 ms margin: 800 ms of budget for 4 attempts of 300 ms.
    let ctx = invocation(Duration::from_secs(1));
    let started = Instant::now();
    let err = ctx.scope(client().get(&url).send()).await.unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(err.status(), 504);
    assert!(elapsed <= Duration::from_millis(800 + 100), "stopped at the budget: {elapsed:?}");
    assert!(elapsed >= Duration::from_millis(550), "at least two attempts ran: {elapsed:?}");
    let attempts = stub.count();
    assert!((2..=3).contains(&attempts), "attempts bounded by the budget, got {attempts}");
}

#[tokio::test]
async fn outside_an_invocation_there_is_no_budget_and_no_correlation_header() {
    let (stub, url) = Stub::start(|_| Some((200, "ok"))).await;
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(!stub.requests.lock().unwrap()[0].1.contains("x-correlation-id"));
}
