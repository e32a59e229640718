//! An HTTP proxy on a loopback port between the AWS SDK and an emulator
//! (moto) that injects faults into chosen requests: throttling, a 500, a
//! dropped connection, a delay, and the two ambiguous cases, where the
//! request **is applied** and then its answer is lost (dropped, or
//! replaced by a 500). The SDK retries after each of them, so a retried
//! write meets its own earlier attempt: the case every conditional write
//! must recognise.
//!
//! Faults are planned per AWS operation (the `X-Amz-Target` header, e.g.
//! `DynamoDB_20120810.PutItem`, matched on its operation name): "the next
//! `PutItem` is applied and its answer dropped". Every request is
//! recorded with the fault it got, for assertions.
//!
//! ```no_run
//! # async fn demo() {
//! use halo_test_support::fault_proxy::{Fault, FaultProxy};
//! use halo_test_support::moto::{Moto, sdk_config};
//!
//! let moto = Moto::shared();
//! let proxy = FaultProxy::start(&moto.endpoint()).await;
//! let client = aws_sdk_dynamodb::Client::new(&sdk_config(&proxy.endpoint()).await);
//! proxy.plan("PutItem", Fault::AppliedThenDropped);
//! // ... the next PutItem through `client` is written, its answer lost,
//! // and the SDK sends it again.
//! # let _ = client;
//! # }
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answers `400 ProvisionedThroughputExceededException` without
    /// forwarding (a retryable throttle).
    Throttled,
    /// Answers `500` without forwarding.
    ServerError,
    /// Closes the connection without forwarding or answering.
    Dropped,
    /// Forwards after this delay.
    Delayed(Duration),
    /// Forwards (the write is applied), then closes the connection without
    /// an answer: what a connection lost after the commit looks like.
    AppliedThenDropped,
    /// Forwards (the write is applied), then answers `500` instead.
    AppliedThenServerError,
}

/// One request the proxy saw: its operation and the fault it got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// The operation (`PutItem`), or `""` without an `X-Amz-Target`.
    pub operation: String,
    /// The fault applied, if any.
    pub fault: Option<Fault>,
}

#[derive(Default)]
struct State {
    /// Planned faults, per operation, taken in order by its next requests.
    plans: Vec<(String, VecDeque<Fault>)>,
    /// Random faults for requests without a planned one.
    random: Option<RandomFaults>,
    seen: Vec<Seen>,
}

/// A seeded source of faults for the requests of some operations.
struct RandomFaults {
    rng: fastrand::Rng,
    percent: u32,
    operations: Vec<String>,
}

impl RandomFaults {
    /// The faults a random request may get: every kind but a delay.
    const KINDS: [Fault; 5] = [
        Fault::Throttled,
        Fault::ServerError,
        Fault::Dropped,
        Fault::AppliedThenDropped,
        Fault::AppliedThenServerError,
    ];

    fn next(&mut self, operation: &str) -> Option<Fault> {
        if !self.operations.iter().any(|op| op == operation) || self.rng.u32(0..100) >= self.percent {
            return None;
        }
        Some(Self::KINDS[self.rng.usize(0..Self::KINDS.len())])
    }
}

/// The proxy; it stops when dropped.
pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    accept: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FaultProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultProxy").field("addr", &self.addr).finish()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl FaultProxy {
    /// Starts a proxy on `127.0.0.1:<free port>` forwarding to `upstream`
    /// (`http://127.0.0.1:PORT`).
    pub async fn start(upstream: &str) -> FaultProxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap_or_else(|e| panic!("the upstream {upstream} is not http://IP:PORT: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let addr = listener.local_addr().expect("a local address");
        let state = Arc::new(Mutex::new(State::default()));
        let accept = {
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                while let Ok((inbound, _)) = listener.accept().await {
                    let state = Arc::clone(&state);
                    tokio::spawn(async move {
                        let service =
                            hyper::service::service_fn(move |request| handle(request, upstream, Arc::clone(&state)));
                        // A planned drop ends the connection with an error: expected.
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(inbound), service)
                            .await;
                    });
                }
            })
        };
        FaultProxy { addr, state, accept }
    }

    /// `http://127.0.0.1:PORT`, the endpoint to give the SDK.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Plans `fault` for the next request of `operation` (after the ones
    /// already planned for it).
    pub fn plan(&self, operation: &str, fault: Fault) {
        let mut state = self.state.lock().unwrap();
        match state.plans.iter_mut().find(|(op, _)| op == operation) {
            Some((_, faults)) => faults.push_back(fault),
            None => state.plans.push((operation.to_owned(), VecDeque::from([fault]))),
        }
    }

    /// From now on, each request of `operations` without a planned fault
    /// gets a fault with probability `percent` %, any kind but a delay
    /// (throttled, a 500, dropped, and the two applied-then-lost cases),
    /// drawn from `seed`: a run is repeated by its seed. An empty
    /// `operations` (or `percent` 0) stops it.
    pub fn random_faults(&self, seed: u64, percent: u32, operations: &[&str]) {
        let mut state = self.state.lock().unwrap();
        state.random = (percent > 0 && !operations.is_empty()).then(|| RandomFaults {
            rng: fastrand::Rng::with_seed(seed),
            percent: percent.min(100),
            operations: operations.iter().map(|op| (*op).to_owned()).collect(),
        });
    }

    /// How many requests got a fault, per fault kind name (`Throttled`,
    /// `AppliedThenDropped`, ...), for a scenario's report.
    pub fn faults(&self) -> Vec<(String, usize)> {
        let mut counts: Vec<(String, usize)> = Vec::new();
        for seen in self.seen() {
            let Some(fault) = seen.fault else { continue };
            let name = format!("{fault:?}");
            match counts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, count)) => *count += 1,
                None => counts.push((name, 1)),
            }
        }
        counts
    }

    /// Every request seen so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.lock().unwrap().seen.clone()
    }

    /// How many requests of `operation` were seen.
    pub fn count(&self, operation: &str) -> usize {
        self.state.lock().unwrap().seen.iter().filter(|s| s.operation == operation).count()
    }
}

/// An error that makes hyper close the connection without an answer.
#[derive(Debug)]
struct Hangup;

impl std::fmt::Display for Hangup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a planned dropped connection")
    }
}

impl std::error::Error for Hangup {}

async fn handle(
    request: Request<Incoming>,
    upstream: SocketAddr,
    state: Arc<Mutex<State>>,
) -> Result<Response<Full<Bytes>>, Hangup> {
    let operation = request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|target| target.rsplit('.').next())
        .unwrap_or("")
        .to_owned();
    let fault = {
        let mut state = state.lock().unwrap();
        let planned =
            state.plans.iter_mut().find(|(op, _)| *op == operation).and_then(|(_, faults)| faults.pop_front());
        let fault = planned.or_else(|| state.random.as_mut().and_then(|random| random.next(&operation)));
        state.seen.push(Seen { operation, fault });
        fault
    };
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map_err(|_| Hangup)?.to_bytes();
    let request = Request::from_parts(parts, Full::new(body));
    match fault {
        Some(Fault::Throttled) => Ok(aws_error(
            StatusCode::BAD_REQUEST,
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        )),
        Some(Fault::ServerError) => Ok(aws_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError")),
        Some(Fault::Dropped) => Err(Hangup),
        Some(Fault::Delayed(delay)) => {
            tokio::time::sleep(delay).await;
            forward(request, upstream).await
        }
        Some(Fault::AppliedThenDropped) => {
            forward(request, upstream).await?;
            Err(Hangup)
        }
        Some(Fault::AppliedThenServerError) => {
            forward(request, upstream).await?;
            Ok(aws_error(StatusCode::INTERNAL_SERVER_ERROR, "InternalServerError"))
        }
        None => forward(request, upstream).await,
    }
}

/// Sends `request` to `upstream` on a connection of its own and returns
/// the whole answer.
async fn forward(request: Request<Full<Bytes>>, upstream: SocketAddr) -> Result<Response<Full<Bytes>>, Hangup> {
    let stream = TcpStream::connect(upstream).await.map_err(|_| Hangup)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|_| Hangup)?;
    tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(|_| Hangup)?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await.map_err(|_| Hangup)?.to_bytes();
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// An AWS JSON-protocol error answer.
fn aws_error(status: StatusCode, kind: &str) -> Response<Full<Bytes>> {
    let body = format!(r#"{{"__type":"{kind}","message":"injected by the fault proxy"}}"#);
    Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-errortype", kind.rsplit('#').next().unwrap_or(kind))
        .body(Full::new(Bytes::from(body)))
        .expect("a valid response")
}
