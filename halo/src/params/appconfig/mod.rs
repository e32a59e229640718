//! [`AppConfigSource`]: configuration profiles from AWS AppConfig, through
//! the data API or the AppConfig Lambda extension.

mod content;
mod data_api;
mod extension;

use std::time::Duration;

use super::error::ParamsError;
use super::provider::{Parameter, Source};
use crate::future::BoxFuture;

/// The variable that picks how profiles are read: `extension` or `api`.
pub(crate) const TRANSPORT_ENV: &str = "HALO_APPCONFIG_TRANSPORT";

/// The AppConfig extension's own variable: the port it listens on.
pub(crate) const EXTENSION_PORT_ENV: &str = "AWS_APPCONFIG_EXTENSION_HTTP_PORT";

/// Where Lambda puts the extensions of a function's layers.
const EXTENSIONS_DIR: &str = "/opt/extensions";

#[derive(Debug)]
enum Transport {
    DataApi(data_api::DataApi),
    Extension(extension::Extension),
}

/// Configuration profiles of one AppConfig application and environment. A
/// name is a profile's name (or id); its content is one value: read it
/// with [`Params::get`](super::Params::get) or keep it live with
/// [`Params::load_one`](super::Params::load_one). JSON profiles (feature
/// flags included) deserialize into your type, YAML profiles too (read as
/// JSON), text profiles into a `String`.
///
/// Two ways to reach AppConfig:
///
/// - **the data API** ([`new`](AppConfigSource::new)): one configuration
///   session per profile; each read calls `GetLatestConfiguration` with
///   the session's next poll token, and a read before the poll interval
///   the service asked for has passed serves the last content without a
///   call. An unchanged profile costs one call and no transfer.
/// - **the AppConfig Lambda extension** ([`extension`](AppConfigSource::extension)):
///   a GET on its local endpoint; the extension keeps the session, polls
///   in the background and answers from its cache.
///
/// [`from_env`](AppConfigSource::from_env) picks the extension when the
/// function has it (or `HALO_APPCONFIG_TRANSPORT=extension`), the data API
/// otherwise.
///
/// ```no_run
/// # async fn init() -> Result<(), halo::params::ParamsError> {
/// use halo::params::{AppConfigSource, Params};
///
/// #[derive(serde::Deserialize)]
/// struct Limits { max_items: u32 }
///
/// let appconfig = Params::new(AppConfigSource::from_env("shop", "prod").await);
/// let limits = appconfig.load_one::<Limits>("limits").await?; // refreshed in the background
/// assert!(limits.get().max_items > 0);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct AppConfigSource {
    application: String,
    environment: String,
    transport: Transport,
}

impl AppConfigSource {
    /// Profiles of `application` in `environment` through the data API,
    /// with `client`.
    pub fn new(
        client: aws_sdk_appconfigdata::Client,
        application: impl Into<String>,
        environment: impl Into<String>,
    ) -> AppConfigSource {
        AppConfigSource {
            application: application.into(),
            environment: environment.into(),
            transport: Transport::DataApi(data_api::DataApi::new(client)),
        }
    }

    /// Profiles of `application` in `environment` through the AppConfig
    /// Lambda extension listening on `port` of loopback (2772 unless
    /// `AWS_APPCONFIG_EXTENSION_HTTP_PORT` says).
    pub fn extension(application: impl Into<String>, environment: impl Into<String>, port: u16) -> AppConfigSource {
        AppConfigSource {
            application: application.into(),
            environment: environment.into(),
            transport: Transport::Extension(extension::Extension { port }),
        }
    }

    /// The extension when the function has it, else the data API with the
    /// container's shared client ([`crate::platform::appconfig_data_client`]).
    ///
    /// `HALO_APPCONFIG_TRANSPORT` decides when set (`extension` or `api`);
    /// otherwise the extension is used when `AWS_APPCONFIG_EXTENSION_HTTP_PORT`
    /// is set or a layer installed an AppConfig extension in
    /// `/opt/extensions`.
    pub async fn from_env(application: impl Into<String>, environment: impl Into<String>) -> AppConfigSource {
        let port = std::env::var(EXTENSION_PORT_ENV)
            .ok()
            .and_then(|p| p.trim().parse::<u16>().ok())
            .unwrap_or(extension::DEFAULT_PORT);
        if extension_wanted() {
            AppConfigSource::extension(application, environment, port)
        } else {
            AppConfigSource::new(crate::platform::appconfig_data_client().await, application, environment)
        }
    }

    /// Asks the data API for at least this interval between polls of a
    /// profile (`RequiredMinimumPollIntervalInSeconds`, 15 s to 24 h; the
    /// service's default otherwise). No effect through the extension,
    /// which has its own (`AWS_APPCONFIG_EXTENSION_POLL_INTERVAL_SECONDS`).
    #[must_use]
    pub fn min_poll_interval(mut self, interval: Duration) -> AppConfigSource {
        if let Transport::DataApi(api) = &mut self.transport {
            api.set_min_poll_interval(interval);
        }
        self
    }

    /// Whether profiles are read through the extension.
    pub fn is_extension(&self) -> bool {
        matches!(self.transport, Transport::Extension(_))
    }

    async fn read(&self, profile: &str) -> Result<Parameter, ParamsError> {
        match &self.transport {
            Transport::DataApi(api) => api.read(&self.application, &self.environment, profile).await,
            Transport::Extension(extension) => extension.read(&self.application, &self.environment, profile).await,
        }
    }
}

/// Whether [`AppConfigSource::from_env`] takes the extension.
fn extension_wanted() -> bool {
    match std::env::var(TRANSPORT_ENV).map(|v| v.trim().to_ascii_lowercase()) {
        Ok(choice) if choice == "extension" => return true,
        Ok(choice) if choice == "api" => return false,
        _ => {}
    }
    if std::env::var_os(EXTENSION_PORT_ENV).is_some() {
        return true;
    }
    std::fs::read_dir(EXTENSIONS_DIR)
        .map(|entries| {
            entries
                .flatten()
                .any(|entry| entry.file_name().to_string_lossy().to_ascii_lowercase().contains("appconfig"))
        })
        .unwrap_or(false)
}

impl Source for AppConfigSource {
    fn get_many<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
        Box::pin(async move {
            let mut out = Vec::with_capacity(names.len());
            for name in names {
                out.push(self.read(name).await?);
            }
            Ok(out)
        })
    }

    fn name(&self) -> &'static str {
        if self.is_extension() { "appconfig-extension" } else { "appconfig" }
    }
}
