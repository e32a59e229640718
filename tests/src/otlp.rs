//! An OpenTelemetry collector on a loopback port: it accepts OTLP/HTTP
//! (`POST /v1/traces`, protobuf), decodes each request with
//! `opentelemetry-proto` and keeps the spans, so tests assert on what a
//! real collector would receive. It can also refuse connections or hang,
//! to stand for a collector that is down or slow.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use prost::Message as _;
use tokio::net::TcpListener;

/// One span as the collector received it (ids in lower-case hex).
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// The `service.name` of its resource.
    pub service: String,
    /// 32 hex digits.
    pub trace_id: String,
    /// 16 hex digits.
    pub span_id: String,
    /// 16 hex digits; empty for a root.
    pub parent_span_id: String,
    /// The span's name.
    pub name: String,
    /// 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    pub kind: i32,
    /// Attributes, values as text.
    pub attributes: HashMap<String, String>,
    /// The names of its events.
    pub events: Vec<String>,
    /// `(trace_id, span_id)` of each link.
    pub links: Vec<(String, String)>,
    /// 2 when the span is an error.
    pub status_code: i32,
}

impl ReceivedSpan {
    /// The attribute `key` as text, if set.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

const UP: u8 = 0;
const REFUSING: u8 = 1;
const HANGING: u8 = 2;

/// The receiver; clones share its spans.
#[derive(Clone)]
pub struct OtlpReceiver {
    endpoint: String,
    spans: Arc<Mutex<Vec<ReceivedSpan>>>,
    requests: Arc<Mutex<usize>>,
    mode: Arc<AtomicU8>,
}

impl OtlpReceiver {
    /// Starts the receiver on `127.0.0.1:<free port>`, on a thread of its
    /// own (it outlives any one test runtime).
    pub fn start() -> OtlpReceiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let endpoint = format!("http://{}", listener.local_addr().expect("a local address"));
        let receiver = OtlpReceiver {
            endpoint,
            spans: Arc::default(),
            requests: Arc::default(),
            mode: Arc::new(AtomicU8::new(UP)),
        };
        let serving = receiver.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(serving.serve(listener));
        });
        receiver
    }

    /// The base URL to give as `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// How many export requests arrived (answered or not).
    pub fn requests(&self) -> usize {
        *self.requests.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Polls (every 10 ms, up to `timeout`) until `done` holds for the
    /// spans received; the spans then.
    pub async fn wait_until(&self, timeout: Duration, done: impl Fn(&[ReceivedSpan]) -> bool) -> Vec<ReceivedSpan> {
        let started = Instant::now();
        loop {
            let spans = self.spans();
            if done(&spans) || started.elapsed() > timeout {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Closes every connection at once, as a collector that is down.
    pub fn refuse(&self) {
        self.mode.store(REFUSING, Ordering::SeqCst);
    }

    /// Reads requests and never answers, as a collector that hangs.
    pub fn hang(&self) {
        self.mode.store(HANGING, Ordering::SeqCst);
    }

    /// Answers again.
    pub fn recover(&self) {
        self.mode.store(UP, Ordering::SeqCst);
    }

    async fn serve(self, listener: std::net::TcpListener) {
        let listener = TcpListener::from_std(listener).expect("a tokio listener");
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            if self.mode.load(Ordering::SeqCst) == REFUSING {
                drop(stream);
                continue;
            }
            let receiver = self.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let receiver = receiver.clone();
                    async move { Ok::<_, Infallible>(receiver.handle(request).await) }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    }

    async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        *self.requests.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        let path = request.uri().path().to_owned();
        let body = request.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
        if self.mode.load(Ordering::SeqCst) == HANGING {
            std::future::pending::<()>().await;
        }
        if path != "/v1/traces" {
            return answer(404);
        }
        match ExportTraceServiceRequest::decode(body) {
            Ok(export) => {
                let mut received = decode(export);
                self.spans.lock().unwrap_or_else(|p| p.into_inner()).append(&mut received);
                answer(200)
            }
            Err(_) => answer(400),
        }
    }
}

fn answer(status: u16) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = hyper::StatusCode::from_u16(status).expect("a status");
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(Value::StringValue(s)) => s.clone(),
        Some(Value::BoolValue(b)) => b.to_string(),
        Some(Value::IntValue(i)) => i.to_string(),
        Some(Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn decode(export: ExportTraceServiceRequest) -> Vec<ReceivedSpan> {
    let mut spans = Vec::new();
    for resource_spans in export.resource_spans {
        let service = resource_spans
            .resource
            .iter()
            .flat_map(|r| r.attributes.iter())
            .find(|kv| kv.key == "service.name")
            .map(|kv| text(kv.value.as_ref()))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                spans.push(ReceivedSpan {
                    service: service.clone(),
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    name: span.name,
                    kind: span.kind,
                    attributes: span.attributes.iter().map(|kv| (kv.key.clone(), text(kv.value.as_ref()))).collect(),
                    events: span.events.iter().map(|e| e.name.clone()).collect(),
                    links: span.links.iter().map(|l| (hex(&l.trace_id), hex(&l.span_id))).collect(),
                    status_code: span.status.map_or(0, |s| s.code),
                });
            }
        }
    }
    spans
}
