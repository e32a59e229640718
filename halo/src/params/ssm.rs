//! [`SsmSource`]: parameters from SSM Parameter Store.

use aws_sdk_ssm::types::ParameterType;

use super::aws_error::sdk_error;
use super::error::{ParamsError, ParamsErrorKind};
use super::provider::{MAX_NAME_BYTES, Parameter, ParameterKind, Source};
use crate::future::BoxFuture;

/// How many names one `GetParameters` call takes.
const GET_PARAMETERS_CHUNK: usize = 10;

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
                .map_err(|e| sdk_error(e, "SSM", "GetParametersByPath", path, ssm_kind))?;
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
                .map_err(|e| sdk_error(e, "SSM", "GetParameters", &label, ssm_kind))?;
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

    fn validate_name(&self, name: &str) -> Result<(), ParamsError> {
        validate_ssm_name(name)
    }

    fn name(&self) -> &'static str {
        "ssm"
    }
}

fn convert(parameter: aws_sdk_ssm::types::Parameter) -> Result<Parameter, ParamsError> {
    let kind = match parameter.r#type {
        Some(ParameterType::StringList) => ParameterKind::StringList,
        Some(ParameterType::SecureString) => ParameterKind::SecureString,
        _ => ParameterKind::String,
    };
    let parameter = Parameter::new(parameter.name.unwrap_or_default(), parameter.value.unwrap_or_default(), kind)
        .with_version(parameter.version);
    parameter.check_size()?;
    Ok(parameter)
}

/// SSM's own error codes.
fn ssm_kind(code: &str) -> Option<ParamsErrorKind> {
    match code {
        "ParameterNotFound" => Some(ParamsErrorKind::NotFound),
        "InvalidFilterKey" | "InvalidFilterValue" | "InvalidKeyId" => Some(ParamsErrorKind::Config),
        _ => None,
    }
}

/// Checks a parameter name or path as SSM spells them: starts with `/`,
/// only `a-zA-Z0-9_.-/`, at most 15 levels and 2048 characters.
fn validate_ssm_name(name: &str) -> Result<(), ParamsError> {
    let problem = if !name.starts_with('/') {
        Some("a parameter name or path must start with `/`")
    } else if name.len() > MAX_NAME_BYTES {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(validate_ssm_name("/shop/prod/db-host_1.x").is_ok());
        for bad in ["shop/prod", "/shop prod", "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p", "/ünï"] {
            let err = validate_ssm_name(bad).unwrap_err();
            assert_eq!(err.kind(), ParamsErrorKind::Config, "{bad}");
            assert_eq!(err.path(), Some(bad));
        }
    }
}
