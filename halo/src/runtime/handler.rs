//! Handler functions and the service that decodes events, calls the handler
//! and encodes its response.
//!
//! A handler is a plain `async fn(E, &Ctx) -> Result<R, Err>` (or, with
//! per-container state, `async fn(E, &Ctx, &S) -> Result<R, Err>`). The traits
//! here let [`crate::run`], [`crate::run_with_init`] and
//! [`crate::run_with_options`] accept such functions directly.
//! `#[halo::handler]` always expands to a `main` calling
//! [`crate::run_with_options`] (through the runtime
//! [`crate::platform::block_on`] picks), with the event, response and error
//! types named through [`HandlerEvent`], [`HandlerResponse`] and
//! [`IntoError`], and a shim that checks the handler's future is `Send`.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::Invocation;
use crate::error::{Error, IntoError};
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
#[cfg_attr(not(feature = "test-support"), allow(unreachable_pub))]
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
    #[cfg_attr(not(feature = "test-support"), allow(unreachable_pub, dead_code))]
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
                    let event: E = decode_event(inv.payload())?;
                    let response = handler.call(event, &inv.ctx).await.map_err(IntoError::into_error)?;
                    encode_response(&response)
                })
            }),
        }
    }

    /// Wraps a handler that receives per-container `state`.
    #[cfg_attr(not(feature = "test-support"), allow(unreachable_pub))]
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
                    let event: E = decode_event(inv.payload())?;
                    let response = handler.call(event, &inv.ctx, &state).await.map_err(IntoError::into_error)?;
                    encode_response(&response)
                })
            }),
        }
    }
}

impl HandlerService {
    /// The service calling `call` for each invocation (a handler of
    /// another shape: a durable execution's).
    #[cfg(feature = "durable-execution")]
    pub(crate) fn from_call(
        call: impl Fn(Invocation) -> BoxFuture<'static, Result<Box<RawValue>, Error>> + Send + Sync + 'static,
    ) -> HandlerService {
        HandlerService { call: Arc::new(call) }
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

/// Decodes an event's JSON text into `E`, naming the failing field path.
///
/// The error (`InvalidEvent`, 400) is safe to return to the caller: it
/// names the field path (printable ASCII, at most 64 characters) and what
/// was expected, never the value, unknown key or variant that was sent.
/// Text that is not one JSON value is `InvalidEvent` too.
pub(crate) fn decode_event<E: DeserializeOwned>(payload: &str) -> Result<E, Error> {
    decode_json(payload, "the event").map_err(|message| Error::bad_request(message).with_code("InvalidEvent"))
}

/// Decodes JSON text the caller sent (an API Gateway `body`, a message)
/// into `T`, with an error as safe to return as an event's:
/// `BadRequest` (400) with the code `InvalidBody`, naming the field path
/// and what was expected, never the text itself.
///
/// ```
/// #[derive(serde::Deserialize, Debug)]
/// struct Order { quantity: u32 }
///
/// let err = halo::decode_body::<Order>(r#"{"quantity": "<img src=x onerror=alert(1)>"}"#).unwrap_err();
/// assert_eq!((err.status(), err.code()), (400, "InvalidBody"));
/// assert_eq!(err.message(), "the body does not match the expected shape at `quantity`: invalid type, expected u32");
/// assert_eq!(halo::decode_body::<Order>("<html>").unwrap_err().message(), "the body is not JSON: expected value");
///
/// // An unknown key is not named (it is the caller's): its parent is, with
/// // the fields expected there.
/// #[derive(serde::Deserialize, Debug)]
/// #[serde(deny_unknown_fields)]
/// struct Line { sku: String }
/// #[derive(serde::Deserialize, Debug)]
/// struct Cart { lines: Vec<Line> }
///
/// let err = halo::decode_body::<Cart>(r#"{"lines": [{"sku": "a", "<b>x</b>": 1}]}"#).unwrap_err();
/// assert_eq!(err.message(), "the body does not match the expected shape at `lines[0]`: unknown field, expected `sku`");
/// ```
pub fn decode_body<T: DeserializeOwned>(body: &str) -> Result<T, Error> {
    decode_json(body, "the body").map_err(|message| Error::bad_request(message).with_code("InvalidBody"))
}

/// `text` as one JSON value of type `T`, or a message about `what` that
/// is safe for the caller.
pub(crate) fn decode_json<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    // Most text decodes: it is read without tracking the field path (which
    // costs a string per key), and only text that fails is read again, with
    // the path, to say where it went wrong.
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(_) => decode_tracked(text, what),
    }
}

/// [`decode_json`] tracking the field path all along (what it falls back
/// on to say where text went wrong).
fn decode_tracked<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let not_json =
        |err: &serde_json::Error| format!("{what} is not JSON: {}", crate::error::public_text::decode_reason(err));
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        if err.inner().classify() == serde_json::error::Category::Data {
            mismatch_message(what, &err)
        } else {
            not_json(err.inner())
        }
    })?;
    de.end().map_err(|err| not_json(&err))?;
    Ok(value)
}

/// `"<what> does not match the expected shape at `path`: reason"`, with
/// the path and reason made safe for a caller ([`crate::error::public_text`]).
fn mismatch_message(what: &str, err: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let reason = crate::error::public_text::decode_reason(err.inner());
    // An unknown field's path ends in the caller's own key: name its
    // parent, whose expected fields the reason lists.
    let path = if reason.starts_with("unknown field") { parent_path(err.path()) } else { err.path().to_string() };
    if path == "." {
        format!("{what} does not match the expected shape: {reason}")
    } else {
        format!(
            "{what} does not match the expected shape at `{}`: {reason}",
            crate::error::public_text::field_path(&path)
        )
    }
}

/// `path` without its last segment (`.` for a top-level one), written as
/// `serde_path_to_error` writes a path.
fn parent_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;

    let segments: Vec<&Segment> = path.iter().collect();
    let Some((_, parents)) = segments.split_last() else { return ".".to_owned() };
    let mut out = String::new();
    for segment in parents {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(variant);
            }
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    if out.is_empty() { ".".to_owned() } else { out }
}

/// Encodes a handler's response as JSON.
pub(crate) fn encode_response<R: Serialize>(response: &R) -> Result<Box<RawValue>, Error> {
    serde_json::value::to_raw_value(response).map_err(Error::internal)
}

/// An event type a handler can take: any type that decodes from JSON
/// (`serde::de::DeserializeOwned`). `#[halo::handler]` checks it on the
/// event parameter, so a type that does not fit is reported there.
#[diagnostic::on_unimplemented(
    message = "the handler's event type `{Self}` cannot be decoded from JSON",
    label = "this type does not implement `serde::Deserialize`",
    note = "add `#[derive(serde::Deserialize)]` to `{Self}`, or take `serde_json::Value`"
)]
pub trait HandlerEvent: DeserializeOwned {}

impl<T: DeserializeOwned> HandlerEvent for T {}

/// A response type a handler can return: any type that encodes to JSON
/// (`serde::Serialize`). `#[halo::handler]` checks it on the `Ok` type of
/// the return type, so a type that does not fit is reported there.
#[diagnostic::on_unimplemented(
    message = "the handler's response type `{Self}` cannot be encoded as JSON",
    label = "this type does not implement `serde::Serialize`",
    note = "add `#[derive(serde::Serialize)]` to `{Self}`, or return `serde_json::Value`"
)]
pub trait HandlerResponse: Serialize {}

impl<T: Serialize> HandlerResponse for T {}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Order {
        quantity: u32,
        name: Option<String>,
        #[serde(default)]
        tags: Vec<String>,
    }

    fn text() -> impl Strategy<Value = String> {
        let quantity = prop_oneof![
            any::<u32>().prop_map(|n| n.to_string()),
            Just("-1".to_owned()),
            Just("4294967296".to_owned()),
            Just("\"7\"".to_owned()),
            Just("null".to_owned()),
        ];
        let name = prop_oneof![
            Just("null".to_owned()),
            "[a-z\"\\\\]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap()),
            Just("3".to_owned())
        ];
        let tags = prop::collection::vec("[a-z]{0,3}", 0..3).prop_map(|t| serde_json::to_string(&t).unwrap());
        (quantity, name, tags, any::<bool>(), 0usize..80, "[ x}\\],]{0,2}").prop_map(
            |(q, n, t, with_tags, cut, tail)| {
                let mut text = if with_tags {
                    format!(r#"{{"quantity":{q},"name":{n},"tags":{t}}}"#)
                } else {
                    format!(r#"{{"name":{n},"quantity":{q}}}"#)
                };
                // Some texts are cut short or carry trailing bytes.
                if cut < text.len() && cut % 3 == 0 {
                    text.truncate(cut);
                }
                text + &tail
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn decoding_without_the_path_first_changes_no_result_and_no_message(text in text()) {
            prop_assert_eq!(decode_json::<Order>(&text, "the body"), decode_tracked::<Order>(&text, "the body"));
        }
    }

    #[test]
    fn a_bad_field_is_named_and_trailing_text_is_not_json() {
        let err = decode_json::<Order>(r#"{"quantity":"7"}"#, "the body").unwrap_err();
        assert_eq!(err, "the body does not match the expected shape at `quantity`: invalid type, expected u32");
        let err = decode_json::<Order>(r#"{"quantity":7} x"#, "the body").unwrap_err();
        assert_eq!(err, "the body is not JSON: trailing characters");
        assert_eq!(decode_json::<Order>(r#"{"quantity":7}"#, "the body").unwrap().quantity, 7);
    }
}
