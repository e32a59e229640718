//! Configuration errors: they name the parameter's full path and the cause,
//! never the value of a parameter.

use std::fmt;

use crate::error::BoxError;

/// What kind of configuration problem an error is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParamsErrorKind {
    /// The parameter, or every parameter under the path, does not exist.
    NotFound,
    /// A required field of the config type has no parameter.
    Missing,
    /// A value does not fit its target type, or is not valid JSON.
    Invalid,
    /// A value is larger than SSM's 8 KB limit for advanced parameters.
    TooLarge,
    /// SSM throttled the request.
    Throttled,
    /// SSM could not be reached or failed (network, timeout, 5xx).
    Unavailable,
    /// The function may not read the parameter (IAM or KMS).
    AccessDenied,
    /// The setup is wrong: an invalid path or name, a bad override file, an
    /// unknown source.
    Config,
}

impl ParamsErrorKind {
    /// A short name, e.g. `NotFound`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParamsErrorKind::NotFound => "NotFound",
            ParamsErrorKind::Missing => "Missing",
            ParamsErrorKind::Invalid => "Invalid",
            ParamsErrorKind::TooLarge => "TooLarge",
            ParamsErrorKind::Throttled => "Throttled",
            ParamsErrorKind::Unavailable => "Unavailable",
            ParamsErrorKind::AccessDenied => "AccessDenied",
            ParamsErrorKind::Config => "Config",
        }
    }
}

/// A configuration error: what went wrong, for which parameter (its full
/// path), and the cause.
///
/// The message never holds a parameter's value, so the error can be logged
/// as it is; a mismatch on a secret names the path only. Converted into a
/// [`halo::Error`](crate::Error) (with `?` in a handler) it is an internal
/// error: end users see `internal error`, the details are only logged.
///
/// ```
/// use halo::params::{ParamsError, ParamsErrorKind};
///
/// let err = ParamsError::new(ParamsErrorKind::Missing, "no parameter for this required field")
///     .at("/shop/prod/db/host");
/// assert_eq!(err.path(), Some("/shop/prod/db/host"));
/// assert_eq!(err.to_string(), "/shop/prod/db/host: no parameter for this required field");
/// ```
#[derive(Debug)]
pub struct ParamsError {
    kind: ParamsErrorKind,
    path: Option<String>,
    message: String,
    source: Option<BoxError>,
}

impl ParamsError {
    /// A new error; `message` must not contain a parameter's value.
    pub fn new(kind: ParamsErrorKind, message: impl Into<String>) -> ParamsError {
        ParamsError { kind, path: None, message: message.into(), source: None }
    }

    /// Names the parameter (or path) the error is about.
    #[must_use]
    pub fn at(mut self, path: impl Into<String>) -> ParamsError {
        self.path = Some(path.into());
        self
    }

    /// Attaches the cause (e.g. the SDK error); shown after the message.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<BoxError>) -> ParamsError {
        self.source = Some(source.into());
        self
    }

    /// The kind of problem.
    pub fn kind(&self) -> ParamsErrorKind {
        self.kind
    }

    /// The full path of the parameter (or of the loaded path) concerned.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The message, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether trying again later may succeed (throttling, SSM unreachable).
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ParamsErrorKind::Throttled | ParamsErrorKind::Unavailable)
    }
}

impl fmt::Display for ParamsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.path {
            write!(f, "{path}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

/// Throttled or unreachable SSM is `ParamsUnavailable` (503, retryable);
/// every other problem is the operator's (a missing or invalid parameter, a
/// configuration error), so it is an internal error (500) whose text is
/// only logged: parameter paths never reach a caller.
impl crate::IntoError for ParamsError {
    fn into_error(self) -> crate::Error {
        if self.is_retryable() {
            crate::Error::unavailable("configuration is unavailable; retry later")
                .with_code("ParamsUnavailable")
                .with_source(self)
        } else {
            crate::Error::internal(self).with_code("ParamsError")
        }
    }
}

crate::error::from::own_error!(ParamsError);

impl std::error::Error for ParamsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_ref().map(|s| s.as_ref() as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_path_message_and_cause() {
        let err = ParamsError::new(ParamsErrorKind::Unavailable, "cannot reach SSM")
            .at("/a/b")
            .with_source(std::io::Error::other("connection refused"));
        assert_eq!(err.to_string(), "/a/b: cannot reach SSM: connection refused");
        assert!(err.is_retryable());
        assert!(!ParamsError::new(ParamsErrorKind::Invalid, "x").is_retryable());
    }
}
