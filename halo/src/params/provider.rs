//! What a parameter source implements: the [`Source`] trait and the
//! [`Parameter`]s it returns. Service authors pick a source
//! ([`EnvSource`](super::EnvSource), `SsmSource`, [`Params::from_env`](super::Params::from_env));
//! they need nothing here.

use std::fmt;

use super::error::{ParamsError, ParamsErrorKind};
use crate::future::BoxFuture;

/// SSM's size limit for a parameter value (advanced tier): 8 KB.
pub(crate) const MAX_VALUE_BYTES: usize = 8 * 1024;

/// How many names one `GetParameters` call takes.
#[cfg(feature = "ssm")]
pub(crate) const GET_PARAMETERS_CHUNK: usize = 10;

/// The type of an SSM parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ParameterKind {
    /// Plain text (parsed as JSON when the target type is not a string).
    String,
    /// Comma-separated values; deserializes into `Vec<String>`.
    StringList,
    /// Encrypted with KMS; read decrypted, never printed.
    SecureString,
}

/// One parameter as read from its source: full name, value, type, version.
///
/// Its `Debug` output hides the value of a `SecureString`.
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
}

impl Parameter {
    /// A parameter (version 1).
    pub fn new(name: impl Into<String>, value: impl Into<String>, kind: ParameterKind) -> Parameter {
        Parameter { name: name.into(), value: value.into(), kind, version: 1 }
    }

    /// Sets the version.
    #[must_use]
    pub fn with_version(mut self, version: i64) -> Parameter {
        self.version = version;
        self
    }

    /// The full name, e.g. `/shop/prod/db/host`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The value (decrypted for a `SecureString`): do not log it.
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

    /// Whether the value is a secret (a `SecureString`).
    pub fn is_secure(&self) -> bool {
        self.kind == ParameterKind::SecureString
    }

    /// Refuses a value over SSM's 8 KB limit.
    pub(crate) fn check_size(&self) -> Result<(), ParamsError> {
        if self.value.len() > MAX_VALUE_BYTES {
            return Err(ParamsError::new(
                ParamsErrorKind::TooLarge,
                format!(
                    "the value is {} bytes, over the {MAX_VALUE_BYTES}-byte limit of SSM advanced parameters",
                    self.value.len()
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

/// A place parameters are read from: SSM (`SsmSource`) or, for local runs
/// and tests, environment variables and a file
/// ([`EnvSource`](super::EnvSource)).
///
/// Values come back decrypted. Implementations report a parameter that does
/// not exist as [`ParamsErrorKind::NotFound`] naming it, and failures to
/// reach the backend as retryable errors.
pub trait Source: Send + Sync + 'static {
    /// Every parameter under `path` (recursively), with their full names.
    /// An empty list is not an error here.
    fn get_by_path<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>>;

    /// The parameters named `names` (full names). A name that does not
    /// exist is a `NotFound` error naming it.
    fn get_many<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>>;

    /// A short name of the source for logs, e.g. `ssm`.
    fn name(&self) -> &'static str;
}

/// Checks a parameter name or path as SSM spells them: starts with `/`,
/// only `a-zA-Z0-9_.-/`, at most 15 levels and 2048 characters.
pub(crate) fn validate_name(name: &str) -> Result<(), ParamsError> {
    let problem = if !name.starts_with('/') {
        Some("a parameter name or path must start with `/`")
    } else if name.len() > 2048 {
        Some("a parameter name or path is at most 2048 characters")
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/')) {
        Some("a parameter name or path may only contain a-z, A-Z, 0-9, `_`, `.`, `-` and `/`")
    } else if name.split('/').filter(|s| !s.is_empty()).count() > 15 {
        Some("a parameter name or path has at most 15 levels")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(ParamsError::new(ParamsErrorKind::Config, problem).at(name)),
        None => Ok(()),
    }
}

#[cfg(feature = "ssm")]
pub(super) mod ssm {
    use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
    use aws_sdk_ssm::types::ParameterType;

    use super::*;

    /// Parameters from SSM Parameter Store, always read with decryption.
    ///
    /// Paths are read with `GetParametersByPath` (recursive, every page),
    /// names with `GetParameters` in chunks of 10.
    ///
    /// ```no_run
    /// # async fn init() -> Result<(), halo::params::ParamsError> {
    /// use halo::params::{Params, SsmSource};
    ///
    /// let sdk = halo::platform::sdk_config().await;
    /// let params = Params::new(SsmSource::new(aws_sdk_ssm::Client::new(&sdk)));
    /// let port: u16 = params.get("/shop/prod/port").await?;
    /// # Ok(()) }
    /// ```
    #[derive(Debug, Clone)]
    pub struct SsmSource {
        client: aws_sdk_ssm::Client,
    }

    impl SsmSource {
        /// Reads through `client`.
        pub fn new(client: aws_sdk_ssm::Client) -> SsmSource {
            SsmSource { client }
        }

        /// The container's shared SSM client
        /// ([`crate::platform::ssm_client`]).
        pub async fn from_env() -> SsmSource {
            SsmSource::new(crate::platform::ssm_client().await)
        }

        async fn by_path(&self, path: &str) -> Result<Vec<Parameter>, ParamsError> {
            let mut out = Vec::new();
            let mut next_token: Option<String> = None;
            loop {
                let page = self
                    .client
                    .get_parameters_by_path()
                    .path(path)
                    .recursive(true)
                    .with_decryption(true)
                    .set_next_token(next_token.take())
                    .send()
                    .await
                    .map_err(|e| sdk_error(e, path, "GetParametersByPath"))?;
                for parameter in page.parameters.unwrap_or_default() {
                    out.push(convert(parameter)?);
                }
                match page.next_token {
                    Some(token) if !token.is_empty() => next_token = Some(token),
                    _ => return Ok(out),
                }
            }
        }

        async fn by_names(&self, names: &[String]) -> Result<Vec<Parameter>, ParamsError> {
            let mut out = Vec::with_capacity(names.len());
            for chunk in names.chunks(GET_PARAMETERS_CHUNK) {
                let label = chunk.join(", ");
                let page = self
                    .client
                    .get_parameters()
                    .set_names(Some(chunk.to_vec()))
                    .with_decryption(true)
                    .send()
                    .await
                    .map_err(|e| sdk_error(e, &label, "GetParameters"))?;
                let invalid = page.invalid_parameters.unwrap_or_default();
                if let Some(first) = invalid.first() {
                    let message = if invalid.len() == 1 {
                        "no such parameter".to_owned()
                    } else {
                        format!("no such parameter (nor {})", invalid[1..].join(", "))
                    };
                    return Err(ParamsError::new(ParamsErrorKind::NotFound, message).at(first));
                }
                for parameter in page.parameters.unwrap_or_default() {
                    out.push(convert(parameter)?);
                }
            }
            Ok(out)
        }
    }

    impl Source for SsmSource {
        fn get_by_path<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
            Box::pin(self.by_path(path))
        }

        fn get_many<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
            Box::pin(self.by_names(names))
        }

        fn name(&self) -> &'static str {
            "ssm"
        }
    }

    fn convert(parameter: aws_sdk_ssm::types::Parameter) -> Result<Parameter, ParamsError> {
        let name = parameter.name.unwrap_or_default();
        let kind = match parameter.r#type {
            Some(ParameterType::StringList) => ParameterKind::StringList,
            Some(ParameterType::SecureString) => ParameterKind::SecureString,
            _ => ParameterKind::String,
        };
        let parameter =
            Parameter { name, value: parameter.value.unwrap_or_default(), kind, version: parameter.version };
        parameter.check_size()?;
        Ok(parameter)
    }

    /// Maps an SDK error to a kind; the message names the operation and the
    /// path, the source carries the SDK's own description (no values).
    fn sdk_error<E, R>(err: SdkError<E, R>, path: &str, operation: &str) -> ParamsError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: fmt::Debug + Send + Sync + 'static,
    {
        let (kind, what) = match &err {
            SdkError::ServiceError(service) => match service.err().code().unwrap_or_default() {
                "ThrottlingException" | "TooManyUpdates" => (ParamsErrorKind::Throttled, "SSM throttled"),
                "AccessDeniedException" | "UnrecognizedClientException" => {
                    (ParamsErrorKind::AccessDenied, "access denied to")
                }
                "ParameterNotFound" => (ParamsErrorKind::NotFound, "no such parameter in"),
                "ValidationException" | "InvalidFilterKey" | "InvalidFilterValue" | "InvalidKeyId" => {
                    (ParamsErrorKind::Config, "SSM refused")
                }
                "InternalServerError" => (ParamsErrorKind::Unavailable, "SSM failed"),
                _ => (ParamsErrorKind::Unavailable, "SSM failed"),
            },
            SdkError::ConstructionFailure(_) => (ParamsErrorKind::Config, "cannot build"),
            _ => (ParamsErrorKind::Unavailable, "cannot reach SSM for"),
        };
        let cause = DisplayErrorContext(&err).to_string();
        ParamsError::new(kind, format!("{what} {operation}")).at(path).with_source(cause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(validate_name("/shop/prod/db-host_1.x").is_ok());
        for bad in ["shop/prod", "/shop prod", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", "/ünï"] {
            let err = validate_name(bad).unwrap_err();
            assert_eq!(err.kind(), ParamsErrorKind::Config, "{bad}");
            assert_eq!(err.path(), Some(bad));
        }
    }

    #[test]
    fn a_value_over_8_kb_is_refused_by_name() {
        let big = Parameter::new("/a/big", "x".repeat(MAX_VALUE_BYTES + 1), ParameterKind::String);
        let err = big.check_size().unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::TooLarge);
        assert!(err.to_string().starts_with("/a/big: the value is 8193 bytes"), "{err}");
        assert!(Parameter::new("/a/ok", "x".repeat(MAX_VALUE_BYTES), ParameterKind::String).check_size().is_ok());
    }
}
