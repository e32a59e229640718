//! The public error type: a kind (HTTP status), a stable code, a message that
//! is safe to show to end users, and an internal source that is only logged.

pub(crate) mod from;
pub(crate) mod init;
pub(crate) mod public_text;

use std::borrow::Cow;
use std::fmt;

/// A boxed error, the common currency for internal causes.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong, in terms an end user and an HTTP client understand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 400: the request is malformed.
    BadRequest,
    /// 401: the caller is not authenticated.
    Unauthorized,
    /// 403: the caller may not do this.
    Forbidden,
    /// 404: the thing asked for does not exist.
    NotFound,
    /// 409: the request conflicts with the current state.
    Conflict,
    /// 422: the request is well-formed but its content is invalid.
    Unprocessable,
    /// 429: the caller sends too much; retry later.
    TooManyRequests,
    /// 500: a bug or an unexpected failure inside the function.
    Internal,
    /// 502: a service this function depends on failed.
    Upstream,
    /// 503: temporarily unavailable; retry later.
    Unavailable,
    /// 504: the work did not finish in time.
    Timeout,
}

impl ErrorKind {
    /// The HTTP status code of this kind.
    ///
    /// ```
    /// assert_eq!(halo::ErrorKind::Conflict.status(), 409);
    /// ```
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::Unprocessable => 422,
            ErrorKind::TooManyRequests => 429,
            ErrorKind::Internal => 500,
            ErrorKind::Upstream => 502,
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
        }
    }

    /// The default code of this kind, e.g. `NotFound`.
    pub(crate) fn default_code(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequest",
            ErrorKind::Unauthorized => "Unauthorized",
            ErrorKind::Forbidden => "Forbidden",
            ErrorKind::NotFound => "NotFound",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::Unprocessable => "Unprocessable",
            ErrorKind::TooManyRequests => "TooManyRequests",
            ErrorKind::Internal => "InternalError",
            ErrorKind::Upstream => "UpstreamError",
            ErrorKind::Unavailable => "Unavailable",
            ErrorKind::Timeout => "Timeout",
        }
    }

    /// The message used when none is given: for `Internal` this is the only
    /// message an end user ever sees.
    pub(crate) fn default_message(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "the request is malformed",
            ErrorKind::Unauthorized => "authentication is required",
            ErrorKind::Forbidden => "access denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::Conflict => "the request conflicts with the current state",
            ErrorKind::Unprocessable => "the request is invalid",
            ErrorKind::TooManyRequests => "too many requests",
            ErrorKind::Internal => "internal error",
            ErrorKind::Upstream => "a downstream service failed",
            ErrorKind::Unavailable => "service temporarily unavailable",
            ErrorKind::Timeout => "the request timed out",
        }
    }

    /// Whether the same request may succeed if retried later.
    pub fn is_retryable(self) -> bool {
        matches!(self, ErrorKind::TooManyRequests | ErrorKind::Upstream | ErrorKind::Unavailable | ErrorKind::Timeout)
    }
}

/// A halo error: what a handler returns and what an end user sees.
///
/// The **message** is public: it goes into the response body, so it must
/// not hold internal details. The **source** is private: it is logged with
/// the trace id and never returned. Any `std::error::Error` converts into an
/// `Internal` error through `?`, keeping the original as the source.
///
/// ```
/// use halo::{Error, ErrorKind};
///
/// let err = Error::not_found("no such order");
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// assert_eq!(err.code(), "NotFound");
///
/// // An internal error never shows its cause to the user.
/// let io = std::io::Error::other("disk /dev/sda1 is full");
/// let err = Error::from(io);
/// assert_eq!(err.kind(), ErrorKind::Internal);
/// assert_eq!(err.message(), "internal error");
/// assert!(err.source_chain().contains("/dev/sda1"));
/// ```
pub struct Error {
    kind: ErrorKind,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    source: Option<BoxError>,
    retry_after: Option<std::time::Duration>,
}

impl Error {
    /// A new error of `kind` with a public `message`.
    ///
    /// For `Internal`, the message is kept as the (logged) source and the
    /// public message stays generic: internal text never reaches users.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Error {
        let message = message.into();
        if kind == ErrorKind::Internal {
            return Error::internal(message.into_owned());
        }
        Error { kind, code: Cow::Borrowed(kind.default_code()), message, source: None, retry_after: None }
    }

    /// An internal error (500) whose cause is logged but never returned.
    pub fn internal(cause: impl Into<BoxError>) -> Error {
        Error {
            kind: ErrorKind::Internal,
            code: Cow::Borrowed(ErrorKind::Internal.default_code()),
            message: Cow::Borrowed(ErrorKind::Internal.default_message()),
            source: Some(cause.into()),
            retry_after: None,
        }
    }

    /// 400 Bad Request.
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::BadRequest, message)
    }

    /// 401 Unauthorized.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Unauthorized, message)
    }

    /// 403 Forbidden.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Forbidden, message)
    }

    /// 404 Not Found.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::NotFound, message)
    }

    /// 409 Conflict.
    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Conflict, message)
    }

    /// 422 Unprocessable.
    pub fn unprocessable(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Unprocessable, message)
    }

    /// 429 Too Many Requests.
    pub fn too_many_requests(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::TooManyRequests, message)
    }

    /// 502: a downstream dependency failed.
    pub fn upstream(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Upstream, message)
    }

    /// 503 Service Unavailable.
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Unavailable, message)
    }

    /// 504: the work did not finish in time.
    pub fn timeout(message: impl Into<Cow<'static, str>>) -> Error {
        Error::new(ErrorKind::Timeout, message)
    }

    /// Replaces the stable code (`errorType` for Lambda, `error.code` in
    /// HTTP bodies), e.g. `InvalidEvent` or `AlreadyInProgress`.
    #[must_use]
    pub fn with_code(mut self, code: impl Into<Cow<'static, str>>) -> Error {
        self.code = code.into();
        self
    }

    /// Attaches an internal cause: logged, never returned to the caller.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> Error {
        self.source = Some(source.into());
        self
    }

    /// Tells the caller when to retry (the `Retry-After` header of HTTP
    /// responses, in whole seconds, rounded up).
    #[must_use]
    pub fn with_retry_after(mut self, after: std::time::Duration) -> Error {
        self.retry_after = Some(after);
        self
    }

    /// When the caller may retry, if known.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    /// The public JSON body of this error:
    /// `{"error": {"code", "message", "trace_id"}}`. It never holds the
    /// internal cause.
    ///
    /// ```
    /// let body = halo::Error::not_found("no such order").body("c-42");
    /// assert_eq!(body, serde_json::json!({"error": {"code": "NotFound", "message": "no such order", "trace_id": "c-42"}}));
    /// ```
    pub fn body(&self, trace_id: &str) -> serde_json::Value {
        serde_json::json!({ "error": { "code": self.code, "message": self.message, "trace_id": trace_id } })
    }

    /// The kind (and so the HTTP status).
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The stable code.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The public message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The internal cause, if any.
    pub fn source(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        self.source.as_deref()
    }

    /// The internal cause and its sources joined by `": "`, for logs; a
    /// cause whose text is already in the chain (an error that shows its
    /// source in its own text) is written once.
    ///
    /// ```
    /// let io = std::io::Error::other("connection reset");
    /// let err = halo::Error::unavailable("try later").with_source(io);
    /// assert_eq!(err.source_chain(), "connection reset");
    /// ```
    pub fn source_chain(&self) -> String {
        let mut out = String::new();
        push_causes(&mut out, self.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static)));
        out
    }
}

/// An error and each of its sources, each once, for a log field:
/// `error_cause = %Chain(&err)` (an SDK error's `Display` alone is often
/// just `service error`; its cause is in its sources).
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::new();
        push_causes(&mut out, Some(self.0));
        f.write_str(&out)
    }
}

/// Appends `next` and each of its sources to `out`, joined by `": "`,
/// leaving out a cause whose text `out` already holds (many errors show
/// their source in their own text and return it from `source()` too).
pub(crate) fn push_causes(out: &mut String, mut next: Option<&(dyn std::error::Error + 'static)>) {
    while let Some(err) = next {
        let text = err.to_string();
        if !text.is_empty() && !out.contains(text.as_str()) {
            if !out.is_empty() {
                out.push_str(": ");
            }
            out.push_str(&text);
        }
        next = err.source();
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("source", &self.source)
            .field("retry_after", &self.retry_after)
            .finish()
    }
}

/// Shows the code and the public message only (never the source).
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// A halo [`Error`] as a `std::error::Error`, so `?` works in code that
/// returns `Box<dyn std::error::Error>` (an init function, `main`). Its text
/// is `code: message`; the internal cause is its `source()`.
///
/// ```
/// fn init() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
///     Err(halo::Error::unavailable("the database is down"))?;
///     Ok(())
/// }
/// assert_eq!(init().unwrap_err().to_string(), "Unavailable: the database is down");
/// ```
impl From<Error> for Box<dyn std::error::Error + Send + Sync + 'static> {
    fn from(err: Error) -> Self {
        Box::new(StdError(err))
    }
}

/// See the `Send + Sync` conversion above.
impl From<Error> for Box<dyn std::error::Error + 'static> {
    fn from(err: Error) -> Self {
        Box::new(StdError(err))
    }
}

/// A halo error wrapped as a `std::error::Error`.
struct StdError(Error);

impl fmt::Debug for StdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for StdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for StdError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source.as_deref().map(|s| s as &(dyn std::error::Error + 'static))
    }
}

/// Converts a handler's error type into a halo [`Error`].
///
/// Implemented for [`Error`] itself, [`BoxError`] and strings (both as
/// internal errors). Implement it for your own error enum to choose a kind
/// and a public message per variant:
///
/// ```
/// use halo::{Error, IntoError};
///
/// #[derive(Debug)]
/// enum ChargeError { CardDeclined, Database(String) }
///
/// impl IntoError for ChargeError {
///     fn into_error(self) -> Error {
///         match self {
///             ChargeError::CardDeclined => Error::unprocessable("card declined").with_code("CardDeclined"),
///             ChargeError::Database(detail) => Error::internal(detail),
///         }
///     }
/// }
///
/// assert_eq!(ChargeError::CardDeclined.into_error().status(), 422);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned as a halo handler error",
    label = "implement `halo::IntoError` for `{Self}`, or return `halo::Error` (any std error converts with `?`)"
)]
pub trait IntoError {
    /// Performs the conversion.
    fn into_error(self) -> Error;
}

impl IntoError for Error {
    fn into_error(self) -> Error {
        self
    }
}

impl IntoError for BoxError {
    fn into_error(self) -> Error {
        Error::internal(self)
    }
}

impl IntoError for String {
    fn into_error(self) -> Error {
        Error::internal(self)
    }
}

impl IntoError for &'static str {
    fn into_error(self) -> Error {
        Error::internal(self)
    }
}

impl IntoError for std::convert::Infallible {
    fn into_error(self) -> Error {
        match self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_its_status() {
        let table = [
            (ErrorKind::BadRequest, 400),
            (ErrorKind::Unauthorized, 401),
            (ErrorKind::Forbidden, 403),
            (ErrorKind::NotFound, 404),
            (ErrorKind::Conflict, 409),
            (ErrorKind::Unprocessable, 422),
            (ErrorKind::TooManyRequests, 429),
            (ErrorKind::Internal, 500),
            (ErrorKind::Upstream, 502),
            (ErrorKind::Unavailable, 503),
            (ErrorKind::Timeout, 504),
        ];
        for (kind, status) in table {
            assert_eq!(kind.status(), status, "{kind:?}");
        }
    }

    #[test]
    fn internal_message_is_never_public() {
        let err = Error::new(ErrorKind::Internal, "password=hunter2");
        assert_eq!(err.message(), "internal error");
        assert!(!err.to_string().contains("hunter2"));
        assert!(err.source_chain().contains("hunter2"));
    }

    /// An error that shows its source in its text and returns it too.
    #[derive(Debug)]
    struct Wrapping(&'static str, Option<Box<Wrapping>>);

    impl fmt::Display for Wrapping {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match &self.1 {
                Some(inner) => write!(f, "{}: {inner}", self.0),
                None => f.write_str(self.0),
            }
        }
    }

    impl std::error::Error for Wrapping {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1.as_deref().map(|inner| inner as &(dyn std::error::Error + 'static))
        }
    }

    #[test]
    fn each_cause_is_written_once() {
        let table = Wrapping("no saga table is configured: set HALO_SAGA_TABLE", None);
        let log = Wrapping("saga log error", Some(Box::new(table)));
        let saga = Wrapping("the saga stopped", Some(Box::new(log)));
        let err = Error::internal(saga).with_code("StoreNotConfigured");
        assert_eq!(
            err.source_chain(),
            "the saga stopped: saga log error: no saga table is configured: set HALO_SAGA_TABLE"
        );
        let plain = Error::internal(Wrapping("outer", Some(Box::new(Wrapping("inner", None)))));
        assert_eq!(plain.source_chain(), "outer: inner");
    }

    #[test]
    fn code_can_be_replaced() {
        let err = Error::bad_request("bad").with_code("InvalidEvent");
        assert_eq!(err.code(), "InvalidEvent");
        assert_eq!(err.status(), 400);
    }
}
