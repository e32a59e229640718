//! In-process stand-ins for the hotel, flight and rental services, for
//! local runs and tests: a tiny HTTP/1.1 server on a loopback port.
//!
//! - `POST /{kind}` with `{"token": ...}` books (`201 {"id": ...}`); the
//!   same token gets the same booking back.
//! - `DELETE /{kind}/{id}` cancels (`200`).
//!
//! The stubs run in their own tasks, outside any invocation, so their log
//! lines carry `received_correlation_id` rather than the invocation's ids.
//! - `?fail=1` on either answers `500`, which is how the example injects
//!   failures.
//!
//! Each request is logged with the `x-correlation-id` it carried, which
//! shows the id travelling from the API to the services.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The largest request the stubs read.
const MAX_REQUEST: usize = 64 * 1024;

#[derive(Default)]
struct Ledger {
    /// Bookings by (kind, token).
    booked: HashMap<(String, String), String>,
    next: u64,
}

/// Starts the stub services on `127.0.0.1:<free port>` and returns their
/// base URL. They run until the process ends.
pub async fn start() -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let ledger = ledger.clone();
            tokio::spawn(async move {
                if let Err(err) = serve(stream, &ledger).await {
                    tracing::warn!(error = %err, "stub services: connection failed");
                }
            });
        }
    });
    Ok(base)
}

struct Request {
    method: String,
    path: String,
    query: String,
    correlation_id: Option<String>,
    body: Vec<u8>,
}

async fn serve(mut stream: TcpStream, ledger: &Mutex<Ledger>) -> std::io::Result<()> {
    let Some(request) = read_request(&mut stream).await? else { return Ok(()) };
    let (status, body) = answer(&request, ledger);
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
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => content_length = value.trim().parse().unwrap_or(0).min(MAX_REQUEST),
                "x-correlation-id" => correlation_id = Some(value.trim().to_owned()),
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
    Ok(Some(Request { method, path: path.to_owned(), query: query.to_owned(), correlation_id, body }))
}

fn answer(request: &Request, ledger: &Mutex<Ledger>) -> (u16, Value) {
    let segments: Vec<&str> = request.path.trim_matches('/').split('/').collect();
    let received = request.correlation_id.as_deref().unwrap_or("");
    if request.query.split('&').any(|pair| pair == "fail=1") {
        tracing::info!(stub = segments[0], method = %request.method, received_correlation_id = received, "stub: failing as asked");
        return (500, json!({ "error": "injected failure" }));
    }
    let mut ledger = ledger.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match (request.method.as_str(), segments.as_slice()) {
        ("POST", [kind]) => {
            let token = serde_json::from_slice::<Value>(&request.body)
                .ok()
                .and_then(|body| body["token"].as_str().map(str::to_owned))
                .unwrap_or_default();
            if token.is_empty() {
                return (400, json!({ "error": "a booking needs a token" }));
            }
            tracing::info!(stub = *kind, token = %token, received_correlation_id = received, "stub: booking request");
            let key = (kind.to_string(), token);
            let id = match ledger.booked.get(&key) {
                Some(id) => id.clone(),
                None => {
                    ledger.next += 1;
                    let id = format!("{}-{}", kind.trim_end_matches('s'), ledger.next);
                    ledger.booked.insert(key, id.clone());
                    tracing::info!(stub = *kind, booking = %id, received_correlation_id = received, "stub: booked");
                    id
                }
            };
            (201, json!({ "id": id }))
        }
        ("DELETE", [kind, id]) => {
            tracing::info!(stub = *kind, booking = *id, received_correlation_id = received, "stub: cancelled");
            (200, json!({ "cancelled": id }))
        }
        _ => (404, json!({ "error": "no such route" })),
    }
}
