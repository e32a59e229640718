//! A Lambda Runtime API on loopback, speaking the real protocol:
//! `GET /2018-06-01/runtime/invocation/next`, `POST …/{id}/response`,
//! `POST …/{id}/error` and `POST …/init/error`.
//!
//! [`RuntimeApi::invoke`] queues an event, waits until a function binary has
//! fetched it and answered, and returns the [`Outcome`] with the time the
//! answer arrived, to compare with the deadline it was given.
//!
//! Several `/next` long-polls may be pending at once (a function on Lambda
//! Managed Instances keeps one per concurrent slot): each queued event goes
//! to one of them, and answers are matched to their request ids in
//! whatever order they come. [`RuntimeApi::max_pending_next`] tells how
//! many polls were waiting at the same time.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, oneshot};

/// How a function answered one invocation.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The request id the invocation was sent with.
    pub request_id: String,
    /// `true` for `/response`, `false` for `/error`.
    pub success: bool,
    /// The posted body, parsed as JSON (`Null` if it was not JSON).
    pub body: serde_json::Value,
    /// The `Lambda-Runtime-Function-Error-Type` header of an error.
    pub error_type_header: Option<String>,
    /// The deadline sent with the event, in epoch milliseconds.
    pub deadline_ms: u64,
    /// When the answer arrived, in epoch milliseconds.
    pub answered_at_ms: u64,
}

struct Pending {
    request_id: String,
    body: String,
    deadline_ms: u64,
    headers: Vec<(String, String)>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Pending>,
    waiting: HashMap<String, (u64, oneshot::Sender<Outcome>)>,
    init_errors: Vec<serde_json::Value>,
    next_calls: usize,
    pending_next: usize,
    max_pending_next: usize,
    delivered: usize,
}

/// A Runtime API server on 127.0.0.1; it stops when dropped.
pub struct RuntimeApi {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    queued: Arc<Notify>,
    server: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RuntimeApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeApi").field("addr", &self.addr).finish()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_millis() as u64
}

impl RuntimeApi {
    /// Starts the server on a free loopback port.
    pub async fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind the Runtime API");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let queued = Arc::new(Notify::new());
        let server = tokio::spawn(serve(listener, Arc::clone(&state), Arc::clone(&queued)));
        RuntimeApi { addr, state, queued, server }
    }

    /// `127.0.0.1:PORT`, the value for `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Sends `event` with a deadline `timeout` from now and waits (at most
    /// `timeout` + 10 s) for the answer.
    pub async fn invoke(&self, event: &serde_json::Value, timeout: Duration) -> Outcome {
        self.invoke_with_headers(event, timeout, &[]).await
    }

    /// Like [`RuntimeApi::invoke`], with extra headers on the `/next`
    /// response (e.g. `Lambda-Runtime-Trace-Id`).
    pub async fn invoke_with_headers(
        &self,
        event: &serde_json::Value,
        timeout: Duration,
        headers: &[(&str, &str)],
    ) -> Outcome {
        self.send(event.to_string(), timeout, headers).await
    }

    /// Sends `body` as it is (it need not be JSON), as [`RuntimeApi::invoke`].
    pub async fn invoke_raw(&self, body: &str, timeout: Duration) -> Outcome {
        self.send(body.to_owned(), timeout, &[]).await
    }

    async fn send(&self, body: String, timeout: Duration, headers: &[(&str, &str)]) -> Outcome {
        let request_id = format!("req-{}", unique());
        let deadline_ms = now_ms() + timeout.as_millis() as u64;
        let (tx, rx) = oneshot::channel();
        {
            let mut state = self.state.lock().unwrap();
            state.waiting.insert(request_id.clone(), (deadline_ms, tx));
            state.queue.push_back(Pending {
                request_id: request_id.clone(),
                body,
                deadline_ms,
                headers: headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            });
        }
        self.queued.notify_waiters();
        self.queued.notify_one();
        match tokio::time::timeout(timeout + Duration::from_secs(10), rx).await {
            Ok(Ok(outcome)) => outcome,
            _ => panic!("no answer to {request_id} within {:?}", timeout + Duration::from_secs(10)),
        }
    }

    /// Bodies posted to `/init/error`.
    pub fn init_errors(&self) -> Vec<serde_json::Value> {
        self.state.lock().unwrap().init_errors.clone()
    }

    /// Waits (polling, up to `timeout`) for the function's `/init/error`
    /// posts and returns them; empty if none came in time.
    pub async fn wait_for_init_errors(&self, timeout: Duration) -> Vec<serde_json::Value> {
        self.poll_until(timeout, || !self.init_errors().is_empty()).await;
        self.init_errors()
    }

    /// How many times `/next` was called.
    pub fn next_calls(&self) -> usize {
        self.state.lock().unwrap().next_calls
    }

    /// The most `/next` long-polls that were waiting at the same time.
    pub fn max_pending_next(&self) -> usize {
        self.state.lock().unwrap().max_pending_next
    }

    /// Waits (polling, up to `timeout`) until `n` `/next` polls are waiting
    /// at once; whether they were.
    pub async fn wait_pending_next(&self, n: usize, timeout: Duration) -> bool {
        self.poll_until(timeout, || self.state.lock().unwrap().pending_next >= n).await
    }

    /// How many events the function has fetched.
    pub fn delivered(&self) -> usize {
        self.state.lock().unwrap().delivered
    }

    /// Waits (polling, up to `timeout`) until the function has fetched `n`
    /// events; whether it did.
    pub async fn wait_delivered(&self, n: usize, timeout: Duration) -> bool {
        self.poll_until(timeout, || self.delivered() >= n).await
    }

    /// Checks `condition` every 5 ms until it holds or `timeout` has
    /// passed; whether it held.
    async fn poll_until(&self, timeout: Duration, condition: impl Fn() -> bool) -> bool {
        let started = std::time::Instant::now();
        while !condition() {
            if started.elapsed() >= timeout {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn serve(listener: TcpListener, state: Arc<Mutex<State>>, queued: Arc<Notify>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let state = Arc::clone(&state);
        let queued = Arc::clone(&queued);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, Arc::clone(&state), Arc::clone(&queued)));
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: &str) -> Result<Reply, Infallible> {
    Ok(Response::builder().status(status).body(Full::new(Bytes::from(body.to_owned()))).expect("valid response"))
}

async fn handle(req: Request<Incoming>, state: Arc<Mutex<State>>, queued: Arc<Notify>) -> Result<Reply, Infallible> {
    let path = req.uri().path().to_owned();
    let error_type =
        req.headers().get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    let parts: Vec<&str> = path.trim_start_matches("/2018-06-01/runtime/").split('/').collect();
    match parts.as_slice() {
        ["invocation", "next"] => next(state, queued).await,
        ["invocation", id, kind @ ("response" | "error")] => {
            let entry = state.lock().unwrap().waiting.remove(*id);
            match entry {
                Some((deadline_ms, tx)) => {
                    let _ = tx.send(Outcome {
                        request_id: id.to_string(),
                        success: *kind == "response",
                        body: json,
                        error_type_header: error_type,
                        deadline_ms,
                        answered_at_ms: now_ms(),
                    });
                    reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
                }
                None => reply(StatusCode::BAD_REQUEST, r#"{"errorMessage":"unknown request id"}"#),
            }
        }
        ["init", "error"] => {
            state.lock().unwrap().init_errors.push(json);
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        _ => reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"unknown path"}"#),
    }
}

/// Counts a `/next` poll as waiting until it is answered or dropped.
struct Waiting(Arc<Mutex<State>>);

impl Waiting {
    fn start(state: &Arc<Mutex<State>>) -> Waiting {
        let mut guard = state.lock().unwrap();
        guard.next_calls += 1;
        guard.pending_next += 1;
        guard.max_pending_next = guard.max_pending_next.max(guard.pending_next);
        drop(guard);
        Waiting(Arc::clone(state))
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.lock().unwrap().pending_next -= 1;
    }
}

async fn next(state: Arc<Mutex<State>>, queued: Arc<Notify>) -> Result<Reply, Infallible> {
    let _waiting = Waiting::start(&state);
    loop {
        let notified = queued.notified();
        let popped = {
            let mut guard = state.lock().unwrap();
            let popped = guard.queue.pop_front();
            guard.delivered += usize::from(popped.is_some());
            popped
        };
        if let Some(pending) = popped {
            let mut response = Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .header("lambda-runtime-aws-request-id", &pending.request_id)
                .header("lambda-runtime-deadline-ms", pending.deadline_ms.to_string())
                .header(
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:halo-test",
                );
            for (name, value) in &pending.headers {
                response = response.header(name, value);
            }
            return Ok(response.body(Full::new(Bytes::from(pending.body))).expect("valid response"));
        }
        notified.await;
    }
}
