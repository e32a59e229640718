//! In-process stand-ins for the hotel, flight and rental services, for
//! local runs and tests: a tiny HTTP/1.1 server on a loopback port.
//!
//! - `POST /{kind}` books (`201 {"id": ...}`). The booking's idempotency
//!   key is the `idempotency-key` header (else the body's `"token"`): the
//!   same key gets the same booking back, and a key whose booking was
//!   cancelled is refused (`409`).
//! - `DELETE /{kind}/{id}` cancels the booking `id` (`200`, also for an
//!   unknown id: cancelling is idempotent).
//! - `DELETE /{kind}` with `idempotency-key: K` cancels whatever was booked
//!   with the key `K` (`200 {"cancelled": id}`, `{"cancelled": null}` when
//!   nothing was), and refuses a later booking with `K`: how a saga
//!   compensation that got no output (an interrupted step) undoes the step.
//! - `?fail=1` on any of them answers `500`, which is how the example
//!   injects failures.
//!
//! The stubs run in their own tasks, outside any invocation, so their log
//! lines carry `received_correlation_id` rather than the invocation's ids:
//! the `x-correlation-id` each request carried, which shows the id
//! travelling from the API to the services.
//!
//! Tests start them with [`Stubs::start`], read the ledger
//! ([`Stubs::live_bookings`]) and inject faults ([`Stubs::hold`],
//! [`Stubs::refuse`]).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// The largest request the stubs read.
const MAX_REQUEST: usize = 64 * 1024;

/// A booking as the stubs hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// The service: `hotels`, `flights` or `rentals`.
    pub kind: String,
    /// The idempotency key it was booked with (the saga step's token).
    pub key: String,
    /// Its id; `None` for a key cancelled before anything was booked.
    pub id: Option<String>,
    /// Booked and not cancelled.
    pub live: bool,
}

#[derive(Default)]
struct Ledger {
    /// Bookings by (kind, idempotency key).
    bookings: HashMap<(String, String), Booking>,
    next: u64,
    /// Kinds whose bookings are made and then never answered.
    hold: HashSet<String>,
    /// Kinds whose booking requests are refused.
    refuse: HashSet<String>,
}

struct Shared {
    ledger: Mutex<Ledger>,
    /// Notified when a held booking was made.
    held: Notify,
}

/// The running stub services; they run until the process ends.
#[derive(Clone)]
pub struct Stubs {
    base: String,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Stubs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stubs").field("base", &self.base).finish_non_exhaustive()
    }
}

impl Stubs {
    /// Starts the stub services on `127.0.0.1:<free port>`.
    pub async fn start() -> std::io::Result<Stubs> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared { ledger: Mutex::default(), held: Notify::new() });
        let serving = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = serving.clone();
                tokio::spawn(async move {
                    if let Err(err) = serve(stream, &shared).await {
                        tracing::warn!(error = %err, "stub services: connection failed");
                    }
                });
            }
        });
        Ok(Stubs { base, shared })
    }

    /// Their base URL (`http://127.0.0.1:PORT`), for [`crate::SERVICES_ENV`].
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Every booking not cancelled (in no particular order).
    pub fn live_bookings(&self) -> Vec<Booking> {
        self.shared.lock().bookings.values().filter(|b| b.live).cloned().collect()
    }

    /// The booking made with `key` at the service `kind`, if any.
    pub fn booking(&self, kind: &str, key: &str) -> Option<Booking> {
        self.shared.lock().bookings.get(&(kind.to_owned(), key.to_owned())).cloned()
    }

    /// From now on, a booking at `kind` is made and then never answered: the
    /// caller dies or times out after the service acted.
    pub fn hold(&self, kind: &str) {
        self.shared.lock().hold.insert(kind.to_owned());
    }

    /// Waits until a held booking was made (see [`Stubs::hold`]).
    pub async fn held(&self) {
        self.shared.held.notified().await;
    }

    /// From now on, booking requests at `kind` are refused (`409`) and
    /// holding stops.
    pub fn refuse(&self, kind: &str) {
        let mut ledger = self.shared.lock();
        ledger.hold.remove(kind);
        ledger.refuse.insert(kind.to_owned());
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Ledger> {
        self.ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Starts the stub services and returns their base URL (see [`Stubs::start`]).
pub async fn start() -> std::io::Result<String> {
    Ok(Stubs::start().await?.base)
}

struct Request {
    method: String,
    path: String,
    query: String,
    correlation_id: Option<String>,
    idempotency_key: Option<String>,
    /// The caller's span, as W3C `traceparent` (with tracing on).
    traceparent: Option<String>,
    body: Vec<u8>,
}

/// An answer; `hold` leaves the caller without it.
struct Answer {
    status: u16,
    body: Value,
    hold: bool,
}

fn answer(status: u16, body: Value) -> Answer {
    Answer { status, body, hold: false }
}

async fn serve(mut stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else { return Ok(()) };
    let Answer { status, body, hold } = handle(&request, shared);
    if hold {
        shared.held.notify_one();
        // The caller gets no answer: it dies, or times out, waiting.
        std::future::pending::<()>().await;
    }
    let body = body.to_string();
    let head = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        if status < 400 { "OK" } else { "Error" },
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<Option<Request>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > MAX_REQUEST {
            return Ok(None);
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let target = request_line.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut content_length = 0usize;
    let mut correlation_id = None;
    let mut idempotency_key = None;
    let mut traceparent = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => content_length = value.trim().parse().unwrap_or(0).min(MAX_REQUEST),
                "x-correlation-id" => correlation_id = Some(value.trim().to_owned()),
                "idempotency-key" => idempotency_key = Some(value.trim().to_owned()).filter(|k| !k.is_empty()),
                "traceparent" => traceparent = Some(value.trim().to_owned()),
                _ => {}
            }
        }
    }
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < content_length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..read]);
    }
    Ok(Some(Request {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        correlation_id,
        idempotency_key,
        traceparent,
        body,
    }))
}

fn handle(request: &Request, shared: &Shared) -> Answer {
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let stub = segments.first().copied().unwrap_or_default();
    let received = request.correlation_id.as_deref().unwrap_or("");
    if request.query.split('&').any(|pair| pair == "fail=1") {
        tracing::info!(stub, method = %request.method, received_correlation_id = received, "stub: failing as asked");
        return answer(500, json!({ "error": "injected failure" }));
    }
    let mut guard = shared.lock();
    let ledger = &mut *guard;
    match (request.method.as_str(), segments.as_slice()) {
        ("POST", [kind]) => {
            let key = request.idempotency_key.clone().or_else(|| {
                serde_json::from_slice::<Value>(&request.body)
                    .ok()
                    .and_then(|body| body["token"].as_str().map(str::to_owned))
                    .filter(|t| !t.is_empty())
            });
            let Some(key) = key else { return answer(400, json!({ "error": "a booking needs an idempotency key" })) };
            let traceparent = request.traceparent.as_deref().unwrap_or("");
            tracing::info!(stub, token = %key, received_correlation_id = received, received_traceparent = traceparent, "stub: booking request");
            if ledger.refuse.contains(*kind) {
                return answer(409, json!({ "error": "no availability" }));
            }
            let hold = ledger.hold.contains(*kind);
            let booking = match ledger.bookings.entry((kind.to_string(), key.clone())) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => {
                    ledger.next += 1;
                    let id = format!("{}-{}", kind.trim_end_matches('s'), ledger.next);
                    tracing::info!(stub, booking = %id, received_correlation_id = received, "stub: booked");
                    entry.insert(Booking { kind: kind.to_string(), key, id: Some(id), live: true })
                }
            };
            match (&booking.id, booking.live) {
                (Some(id), true) => Answer { status: 201, body: json!({ "id": id }), hold },
                _ => answer(409, json!({ "error": "this booking was cancelled" })),
            }
        }
        ("DELETE", [kind, id]) => {
            let found = ledger.bookings.values_mut().find(|b| b.kind == *kind && b.id.as_deref() == Some(*id));
            match found {
                Some(booking) => {
                    booking.live = false;
                    tracing::info!(stub, booking = *id, received_correlation_id = received, "stub: cancelled");
                    answer(200, json!({ "cancelled": id }))
                }
                // Cancelling is idempotent: an unknown booking is nothing to cancel.
                None => {
                    tracing::info!(stub, booking = *id, received_correlation_id = received, "stub: nothing to cancel");
                    answer(200, json!({ "cancelled": id }))
                }
            }
        }
        ("DELETE", [kind]) => {
            let Some(key) = request.idempotency_key.clone() else {
                return answer(400, json!({ "error": "cancelling by key needs an idempotency-key header" }));
            };
            let booking = ledger.bookings.entry((kind.to_string(), key.clone())).or_insert_with(|| Booking {
                kind: kind.to_string(),
                key: key.clone(),
                id: None,
                live: false,
            });
            booking.live = false;
            match booking.id.clone() {
                Some(id) => {
                    tracing::info!(stub, booking = %id, token = %key, received_correlation_id = received, "stub: cancelled");
                    answer(200, json!({ "cancelled": id }))
                }
                None => {
                    tracing::info!(stub, token = %key, received_correlation_id = received, "stub: nothing to cancel");
                    answer(200, json!({ "cancelled": null }))
                }
            }
        }
        _ => answer(404, json!({ "error": "no such route" })),
    }
}
