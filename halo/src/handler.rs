//! Handler functions and the service that decodes events, calls the handler
//! and encodes its response.
//!
//! A handler is a plain `async fn(E, &Ctx) -> Result<R, Err>` (or, with
//! per-container state, `async fn(E, &Ctx, &S) -> Result<R, Err>`). The traits
//! here let [`crate::run`] accept such functions directly.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::error::{Error, IntoError};
use crate::invocation::Invocation;
use crate::{BoxFuture, Ctx};

/// An `async fn(E, &Ctx) -> Result<R, Err>` usable as a halo handler.
///
/// Implemented for every such function; you never implement it yourself.
pub trait HandlerFn<'a, E, R, Err>: Send + Sync + 'static {
    /// The future the function returns.
    type Future: Future<Output = Result<R, Err>> + Send + 'a;
    /// Calls the function.
    fn call(&self, event: E, ctx: &'a Ctx) -> Self::Future;
}

impl<'a, F, Fut, E, R, Err> HandlerFn<'a, E, R, Err> for F
where
    F: Fn(E, &'a Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Err>> + Send + 'a,
{
    type Future = Fut;
    fn call(&self, event: E, ctx: &'a Ctx) -> Fut {
        self(event, ctx)
    }
}

/// An `async fn(E, &Ctx, &S) -> Result<R, Err>` usable as a halo handler
/// with per-container state `S` (built once by an init function).
///
/// Implemented for every such function; you never implement it yourself.
pub trait StatefulHandlerFn<'a, S: 'a, E, R, Err>: Send + Sync + 'static {
    /// The future the function returns.
    type Future: Future<Output = Result<R, Err>> + Send + 'a;
    /// Calls the function.
    fn call(&self, event: E, ctx: &'a Ctx, state: &'a S) -> Self::Future;
}

impl<'a, F, Fut, S: 'a, E, R, Err> StatefulHandlerFn<'a, S, E, R, Err> for F
where
    F: Fn(E, &'a Ctx, &'a S) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<R, Err>> + Send + 'a,
{
    type Future = Fut;
    fn call(&self, event: E, ctx: &'a Ctx, state: &'a S) -> Fut {
        self(event, ctx, state)
    }
}

type CallFn = dyn Fn(Invocation) -> BoxFuture<'static, Result<Box<RawValue>, Error>> + Send + Sync;

/// The innermost service: decodes the event into the handler's type, calls
/// the handler with the invocation's [`Ctx`] and encodes the response.
///
/// A payload of the wrong shape becomes an `InvalidEvent` error (400) that
/// names the offending field path; the handler is not called.
#[derive(Clone)]
pub struct HandlerService {
    call: Arc<CallFn>,
}

impl std::fmt::Debug for HandlerService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandlerService")
    }
}

impl HandlerService {
    /// Wraps a stateless handler.
    pub fn new<H, E, R, Err>(handler: H) -> HandlerService
    where
        H: for<'a> HandlerFn<'a, E, R, Err>,
        E: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        Err: IntoError + Send + 'static,
    {
        let handler = Arc::new(handler);
        HandlerService {
            call: Arc::new(move |inv: Invocation| {
                let handler = Arc::clone(&handler);
                Box::pin(async move {
                    let event: E = decode_event(&inv.payload)?;
                    let response = handler.call(event, &inv.ctx).await.map_err(IntoError::into_error)?;
                    encode_response(&response)
                })
            }),
        }
    }

    /// Wraps a handler that receives per-container `state`.
    pub fn with_state<H, S, E, R, Err>(state: S, handler: H) -> HandlerService
    where
        H: for<'a> StatefulHandlerFn<'a, S, E, R, Err>,
        S: Send + Sync + 'static,
        E: DeserializeOwned + Send + 'static,
        R: Serialize + Send + 'static,
        Err: IntoError + Send + 'static,
    {
        let handler = Arc::new(handler);
        let state = Arc::new(state);
        HandlerService {
            call: Arc::new(move |inv: Invocation| {
                let handler = Arc::clone(&handler);
                let state = Arc::clone(&state);
                Box::pin(async move {
                    let event: E = decode_event(&inv.payload)?;
                    let response = handler.call(event, &inv.ctx, &state).await.map_err(IntoError::into_error)?;
                    encode_response(&response)
                })
            }),
        }
    }
}

impl tower::Service<Invocation> for HandlerService {
    type Response = Box<RawValue>;
    type Error = Error;
    type Future = BoxFuture<'static, Result<Box<RawValue>, Error>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, inv: Invocation) -> Self::Future {
        (self.call)(inv)
    }
}

/// Decodes an event payload into `E`, naming the failing field path.
///
/// ```
/// #[derive(serde::Deserialize, Debug)]
/// struct Order { id: u64 }
///
/// let raw = serde_json::value::RawValue::from_string(r#"{"id":"<script>"}"#.into()).unwrap();
/// let err = halo::decode_event::<Order>(&raw).unwrap_err();
/// assert_eq!(err.code(), "InvalidEvent");
/// assert_eq!(err.message(), "the event does not match the expected shape at `id`: invalid type, expected u64");
/// ```
pub fn decode_event<E: DeserializeOwned>(payload: &RawValue) -> Result<E, Error> {
    let mut de = serde_json::Deserializer::from_str(payload.get());
    serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let message = if path == "." {
            format!("the event does not match the expected shape: {}", without_position(&inner))
        } else {
            format!("the event does not match the expected shape at `{path}`: {}", without_position(&inner))
        };
        Error::bad_request(message).with_code("InvalidEvent")
    })
}

/// The longest reason an `InvalidEvent` message carries.
const MAX_REASON_LEN: usize = 200;

/// serde_json's message made fit for a caller: without the " at line 1
/// column 9" suffix, without the offending value that `invalid type` and
/// `invalid value` messages quote (it is the caller's own input, possibly
/// hostile), and at most 200 characters.
fn without_position(err: &serde_json::Error) -> String {
    let mut text = err.to_string();
    if let Some(at) = text.rfind(" at line ") {
        text.truncate(at);
    }
    for prefix in ["invalid type", "invalid value"] {
        if text.starts_with(prefix)
            && let Some(expected) = text.rfind(", expected ")
        {
            text = format!("{prefix}{}", &text[expected..]);
        }
    }
    if text.len() > MAX_REASON_LEN {
        let mut cut = MAX_REASON_LEN;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Encodes a handler's response as JSON.
pub fn encode_response<R: Serialize>(response: &R) -> Result<Box<RawValue>, Error> {
    serde_json::value::to_raw_value(response).map_err(Error::internal)
}
