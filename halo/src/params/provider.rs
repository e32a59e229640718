//! What a parameter source implements: the [`Source`] trait and the
//! [`Parameter`]s it returns. Service authors pick a source
//! ([`EnvSource`](super::EnvSource), `SsmSource`, `SecretsSource`,
//! `AppConfigSource`, `DynamoDbSource`, [`Params::from_env`](super::Params::from_env));
//! they need nothing here.

use std::fmt;

use super::error::{ParamsError, ParamsErrorKind};
use crate::future::BoxFuture;

/// SSM's size limit for a parameter value (advanced tier): 8 KB, the
/// default limit of a [`Parameter`].
pub(crate) const MAX_VALUE_BYTES: usize = 8 * 1024;

/// The longest name or path any source takes.
pub(crate) const MAX_NAME_BYTES: usize = 2048;

/// The type of a parameter's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParameterKind {
    /// Plain text (parsed as JSON when the target type is not a string).
    String,
    /// Comma-separated values; deserializes into `Vec<String>`.
    StringList,
    /// A secret (an SSM `SecureString`, a Secrets Manager secret string):
    /// read decrypted, never printed.
    SecureString,
    /// Bytes (a Secrets Manager binary secret), held as standard base64:
    /// deserializes into `Vec<u8>` (or `Secret<Vec<u8>>`) as the bytes,
    /// into a string as UTF-8 text and into other types as JSON text. A
    /// secret, never printed.
    Binary,
}

/// One parameter as read from its source: full name, value, type, version.
///
/// Its `Debug` output hides the value of a `SecureString` or `Binary`.
///
/// ```
/// use halo::params::provider::{Parameter, ParameterKind};
///
/// let p = Parameter::new("/shop/prod/db/password", "hunter2", ParameterKind::SecureString);
/// assert!(!format!("{p:?}").contains("hunter2"));
/// assert_eq!(p.value(), "hunter2");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Parameter {
    name: String,
    value: String,
    kind: ParameterKind,
    version: i64,
    size_limit: usize,
}

impl Parameter {
    /// A parameter (version 1, at most 8 KB: SSM's limit).
    pub fn new(name: impl Into<String>, value: impl Into<String>, kind: ParameterKind) -> Parameter {
        Parameter { name: name.into(), value: value.into(), kind, version: 1, size_limit: MAX_VALUE_BYTES }
    }

    /// Sets the version.
    #[must_use]
    pub fn with_version(mut self, version: i64) -> Parameter {
        self.version = version;
        self
    }

    /// Sets the largest value (in bytes of [`value`](Parameter::value))
    /// halo accepts: the source's own limit (8 KB by default).
    #[must_use]
    pub fn with_size_limit(mut self, bytes: usize) -> Parameter {
        self.size_limit = bytes;
        self
    }

    /// The full name, e.g. `/shop/prod/db/host`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value (decrypted for a `SecureString`, base64 for `Binary`):
    /// do not log it.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The parameter's type.
    pub fn kind(&self) -> ParameterKind {
        self.kind
    }

    /// The version (1 for sources without versions).
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The largest value halo accepts for it, in bytes.
    pub fn size_limit(&self) -> usize {
        self.size_limit
    }

    /// Whether the value is a secret (a `SecureString` or `Binary`).
    pub fn is_secure(&self) -> bool {
        matches!(self.kind, ParameterKind::SecureString | ParameterKind::Binary)
    }

    /// Refuses a value over its size limit.
    pub(crate) fn check_size(&self) -> Result<(), ParamsError> {
        if self.value.len() > self.size_limit {
            return Err(ParamsError::new(
                ParamsErrorKind::TooLarge,
                format!(
                    "the value is {} bytes, over the {}-byte limit of its source",
                    self.value.len(),
                    self.size_limit
                ),
            )
            .at(&self.name));
        }
        Ok(())
    }
}

impl fmt::Debug for Parameter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.is_secure() { &super::secret::REDACTED } else { &self.value };
        f.debug_struct("Parameter")
            .field("name", &self.name)
            .field("value", value)
            .field("kind", &self.kind)
            .field("version", &self.version)
            .finish()
    }
}

/// A place parameters are read from: SSM (`SsmSource`), Secrets Manager
/// (`SecretsSource`), AppConfig (`AppConfigSource`), a DynamoDB table
/// (`DynamoDbSource`) or, for local runs and tests, environment variables
/// and a file ([`EnvSource`](super::EnvSource)). Implement it to read from
/// a store of your own; [`Params`](super::Params) brings the cache, the
/// background refresh and the typed values.
///
/// Values come back decrypted. Implementations report a parameter that does
/// not exist as [`ParamsErrorKind::NotFound`] naming it, failures to reach
/// the backend as retryable errors, and never put a value in an error.
///
/// ```
/// use halo::BoxFuture;
/// use halo::params::provider::{Parameter, ParameterKind, Source};
/// use halo::params::{Params, ParamsError, ParamsErrorKind};
///
/// /// Values compiled into the binary.
/// struct Builtin;
///
/// impl Source for Builtin {
///     fn get_many<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
///         Box::pin(async move {
///             names
///                 .iter()
///                 .map(|name| match name.as_str() {
///                     "greeting" => Ok(Parameter::new(name, "hello", ParameterKind::String)),
///                     _ => Err(ParamsError::new(ParamsErrorKind::NotFound, "no such parameter").at(name)),
///                 })
///                 .collect()
///         })
///     }
///
///     fn name(&self) -> &'static str {
///         "builtin"
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let params = Params::new(Builtin);
/// assert_eq!(params.get::<String>("greeting").await?, "hello");
/// assert_eq!(params.get::<String>("other").await.unwrap_err().kind(), ParamsErrorKind::NotFound);
/// # Ok::<(), ParamsError>(())
/// # }).unwrap();
/// ```
pub trait Source: Send + Sync + 'static {
    /// The parameters named `names` (full names). A name that does not
    /// exist is a `NotFound` error naming it.
    fn get_many<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>>;

    /// Every parameter under `path` (recursively), with their full names.
    /// An empty list is not an error here. By default a source has no
    /// paths: a `Config` error saying to read single values.
    fn get_by_path<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
        let source = self.name();
        Box::pin(async move {
            Err(ParamsError::new(
                ParamsErrorKind::Config,
                format!("the {source} source has no paths: read single values (`get`, `load_one`)"),
            )
            .at(path))
        })
    }

    /// Checks a name or path before any read. By default: not empty, at
    /// most 2048 bytes, no control characters.
    fn validate_name(&self, name: &str) -> Result<(), ParamsError> {
        validate_any_name(name)
    }

    /// A short name of the source for logs, e.g. `ssm`.
    fn name(&self) -> &'static str;
}

/// The default name rule of a [`Source`].
pub(crate) fn validate_any_name(name: &str) -> Result<(), ParamsError> {
    let problem = if name.trim().is_empty() {
        Some("a parameter name is empty")
    } else if name.len() > MAX_NAME_BYTES {
        Some("a parameter name or path is at most 2048 characters")
    } else if name.chars().any(char::is_control) {
        Some("a parameter name or path may not contain control characters")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ParamsError::new(ParamsErrorKind::Config, problem).at(name.escape_debug().to_string())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_over_8_kb_is_refused_by_name() {
        let big = Parameter::new("/a/big", "x".repeat(MAX_VALUE_BYTES + 1), ParameterKind::String);
        let err = big.check_size().unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::TooLarge);
        assert!(err.to_string().starts_with("/a/big: the value is 8193 bytes, over the 8192-byte limit"), "{err}");
        assert!(Parameter::new("/a/ok", "x".repeat(MAX_VALUE_BYTES), ParameterKind::String).check_size().is_ok());
    }
}
