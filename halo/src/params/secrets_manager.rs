//! [`SecretsSource`]: secrets from AWS Secrets Manager.

use futures_util::future::try_join_all;

use super::aws_error::sdk_error;
use super::error::{ParamsError, ParamsErrorKind};
use super::provider::{Parameter, ParameterKind, Source};
use crate::future::BoxFuture;

/// The staging label of a secret's current version.
const CURRENT_STAGE: &str = "AWSCURRENT";

/// Secrets Manager's size limit for a secret value: 64 KB.
const MAX_SECRET_BYTES: usize = 64 * 1024;

/// Secrets from AWS Secrets Manager, read with `GetSecretValue` (one call
/// per secret; several names are read concurrently).
///
/// A name is a secret's name or ARN. A secret string is a `SecureString`
/// parameter: read it into a `String`, or into your own `Deserialize` type
/// when it holds JSON (as the database credentials rotation writes); a
/// binary secret reads into `Vec<u8>`. Wrap what you read in
/// [`Secret`](super::Secret) and it never prints.
///
/// By default the `AWSCURRENT` version is read; [`version_stage`](SecretsSource::version_stage)
/// reads another (`AWSPENDING` while a rotation tests the new value). A
/// rotated secret is picked up by the next refresh: a value older than the
/// max age is served once more and read again in the background.
///
/// ```no_run
/// # async fn init() -> Result<(), halo::params::ParamsError> {
/// use std::time::Duration;
/// use halo::params::{Params, Secret, SecretsSource};
///
/// #[derive(serde::Deserialize)]
/// struct DbCredentials { username: String, password: Secret<String> }
///
/// let secrets = Params::new(SecretsSource::from_env().await).max_age(Duration::from_secs(600));
/// let db: DbCredentials = secrets.get("prod/shop/db").await?;
/// let signing_key: Secret<Vec<u8>> = secrets.get("prod/shop/signing-key").await?;
/// # let _ = (db.username, signing_key);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct SecretsSource {
    client: aws_sdk_secretsmanager::Client,
    version_stage: String,
}

impl SecretsSource {
    /// Reads through `client`.
    pub fn new(client: aws_sdk_secretsmanager::Client) -> SecretsSource {
        SecretsSource { client, version_stage: CURRENT_STAGE.to_owned() }
    }

    /// The container's shared Secrets Manager client
    /// ([`crate::platform::secrets_manager_client`]).
    pub async fn from_env() -> SecretsSource {
        SecretsSource::new(crate::platform::secrets_manager_client().await)
    }

    /// Reads the version with this staging label (`AWSCURRENT` by default,
    /// `AWSPENDING`, `AWSPREVIOUS` or a label of your own).
    #[must_use]
    pub fn version_stage(mut self, stage: impl Into<String>) -> SecretsSource {
        self.version_stage = stage.into();
        self
    }

    async fn read(&self, name: &str) -> Result<Parameter, ParamsError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(name)
            .version_stage(&self.version_stage)
            .send()
            .await
            .map_err(|e| sdk_error(e, "Secrets Manager", "GetSecretValue", name, secrets_kind))?;
        let parameter = match (output.secret_string, output.secret_binary) {
            (Some(text), _) => Parameter::new(name, text, ParameterKind::SecureString),
            (None, Some(blob)) => Parameter::new(name, crate::base64::encode(blob.as_ref()), ParameterKind::Binary),
            (None, None) => {
                return Err(
                    ParamsError::new(ParamsErrorKind::NotFound, "the secret has no value in this version").at(name)
                );
            }
        };
        // Base64 holds 3 bytes in 4 characters.
        let limit = match parameter.kind() {
            ParameterKind::Binary => MAX_SECRET_BYTES.div_ceil(3) * 4,
            _ => MAX_SECRET_BYTES,
        };
        let parameter = parameter.with_size_limit(limit);
        parameter.check_size()?;
        Ok(parameter)
    }
}

impl Source for SecretsSource {
    fn get_many<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
        Box::pin(try_join_all(names.iter().map(|name| self.read(name))))
    }

    fn name(&self) -> &'static str {
        "secrets-manager"
    }
}

/// Secrets Manager's own error codes.
fn secrets_kind(code: &str) -> Option<ParamsErrorKind> {
    match code {
        "ResourceNotFoundException" => Some(ParamsErrorKind::NotFound),
        "DecryptionFailure" => Some(ParamsErrorKind::AccessDenied),
        "InvalidParameterException" | "InvalidRequestException" => Some(ParamsErrorKind::Config),
        _ => None,
    }
}
