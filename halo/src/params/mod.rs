#![doc = include_str!("../../docs/params.md")]

#[cfg(feature = "appconfig")]
mod appconfig;
#[cfg(any(feature = "ssm", feature = "secrets-manager", feature = "appconfig", feature = "dynamodb"))]
mod aws_error;
mod cache;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod env;
mod error;
pub mod provider;
mod secret;
#[cfg(feature = "secrets-manager")]
mod secrets_manager;
#[cfg(feature = "ssm")]
mod ssm;
mod switches;
mod tree;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;

#[cfg(feature = "appconfig")]
pub use appconfig::AppConfigSource;
pub use cache::{LiveConfig, RefreshPolicy, Snapshot};
#[cfg(feature = "dynamodb")]
pub use dynamodb::DynamoDbSource;
pub use env::EnvSource;
pub use error::{ParamsError, ParamsErrorKind};
use provider::Parameter;
use provider::Source;
pub use secret::Secret;
#[cfg(feature = "secrets-manager")]
pub use secrets_manager::SecretsSource;
#[cfg(feature = "ssm")]
pub use ssm::SsmSource;
pub use switches::LogSwitches;

use cache::Fetch;
pub(crate) use tree::RAW_TEXT_MARKER;

/// The default max age of cached values: 300 s.
pub(crate) const DEFAULT_MAX_AGE: Duration = Duration::from_secs(300);

/// The variable that chooses the source: `ssm` or `env`.
pub(crate) const SOURCE_ENV: &str = "HALO_PARAMS_SOURCE";

/// The variable that sets the default max age (`300s`, `5m`, …).
pub(crate) const MAX_AGE_ENV: &str = "HALO_PARAMS_MAX_AGE";

/// Reads parameters from a [`Source`] and caches them. Cheap to clone
/// (clones share the cache of single parameters).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::time::Duration;
/// use halo::params::{EnvSource, GetOptions, Params};
///
/// let params = Params::new(EnvSource::from_vars([("HALO_PARAM_SHOP__PROD__PORT", "8080")]))
///     .max_age(Duration::from_secs(60));
/// let port: u16 = params.get("/shop/prod/port").await?;
/// let text: String = params.get_with("/shop/prod/port", GetOptions::new().force()).await?;
/// assert_eq!((port, text.as_str()), (8080, "8080"));
/// # Ok::<(), halo::params::ParamsError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Params {
    source: Arc<dyn Source>,
    max_age: Duration,
    policy: RefreshPolicy,
    singles: Arc<Mutex<HashMap<String, LiveConfig<Parameter>>>>,
    /// Whether [`Params::from_env`] chose the environment source and no
    /// file was named, so [`Params::local_file`] applies.
    file_unset: bool,
}

impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params").field("source", &self.source.name()).field("max_age", &self.max_age).finish()
    }
}

/// Options of one single-parameter read.
///
/// ```
/// use std::time::Duration;
/// let options = halo::params::GetOptions::new().max_age(Duration::from_secs(10)).force();
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetOptions {
    max_age: Option<Duration>,
    force: bool,
}

impl GetOptions {
    /// The defaults: the [`Params`]' max age, the cache used.
    pub fn new() -> GetOptions {
        GetOptions::default()
    }

    /// Serves the cached value only if it is younger than `max_age` (else
    /// it is served and refreshed in the background, or read if never
    /// read).
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> GetOptions {
        self.max_age = Some(max_age);
        self
    }

    /// Reads the source now, bypassing the cache, and caches the result.
    #[must_use]
    pub fn force(mut self) -> GetOptions {
        self.force = true;
        self
    }
}

/// What `HALO_PARAMS_SOURCE` (or being in Lambda) chooses.
enum Chosen {
    /// The AWS service: SSM for [`Params::from_env`], the given source for
    /// [`Params::from_env_or`].
    Aws,
    /// [`EnvSource`].
    Env,
}

fn source_from_env() -> Result<Chosen, ParamsError> {
    match std::env::var(SOURCE_ENV) {
        Ok(value) => match value.trim().to_ascii_lowercase().as_str() {
            "ssm" | "aws" => Ok(Chosen::Aws),
            "env" | "local" => Ok(Chosen::Env),
            _ => Err(ParamsError::new(
                ParamsErrorKind::Config,
                format!("{SOURCE_ENV} must be `aws` (or `ssm`) or `env`"),
            )),
        },
        Err(_) if crate::platform::in_lambda() => Ok(Chosen::Aws),
        Err(_) => Ok(Chosen::Env),
    }
}

fn max_age_from_env() -> Result<Duration, ParamsError> {
    match std::env::var(MAX_AGE_ENV) {
        Ok(text) => humantime::parse_duration(text.trim()).map_err(|e| {
            ParamsError::new(ParamsErrorKind::Config, format!("{MAX_AGE_ENV} is not a duration such as `300s` or `5m`"))
                .with_source(e)
        }),
        Err(_) => Ok(DEFAULT_MAX_AGE),
    }
}

#[cfg(feature = "ssm")]
async fn ssm_source() -> Result<Arc<dyn Source>, ParamsError> {
    Ok(Arc::new(SsmSource::from_env().await))
}

#[cfg(not(feature = "ssm"))]
async fn ssm_source() -> Result<Arc<dyn Source>, ParamsError> {
    Err(ParamsError::new(ParamsErrorKind::Config, "SSM was chosen but halo was built without its `ssm` feature"))
}

impl Params {
    /// Reads from `source`, with the default max age (300 s).
    pub fn new(source: impl Source) -> Params {
        Params::from_shared(Arc::new(source))
    }

    /// Reads from a shared source.
    pub(crate) fn from_shared(source: Arc<dyn Source>) -> Params {
        Params {
            source,
            max_age: DEFAULT_MAX_AGE,
            policy: RefreshPolicy::default(),
            singles: Arc::default(),
            file_unset: false,
        }
    }

    /// The source the environment asks for: `HALO_PARAMS_SOURCE` (`ssm` or
    /// `env`) when set; else SSM inside Lambda and [`EnvSource`] elsewhere.
    /// The max age comes from `HALO_PARAMS_MAX_AGE` (default 300 s).
    ///
    /// ```no_run
    /// # async fn init() -> Result<(), halo::params::ParamsError> {
    /// // SSM in Lambda; locally the `HALO_PARAM_*` variables and this file.
    /// let params = halo::params::Params::from_env()
    ///     .await?
    ///     .local_file(concat!(env!("CARGO_MANIFEST_DIR"), "/params.local.json"));
    /// # Ok(()) }
    /// ```
    pub async fn from_env() -> Result<Params, ParamsError> {
        match source_from_env()? {
            Chosen::Aws => Params::chosen(ssm_source().await?, false),
            Chosen::Env => Params::local(),
        }
    }

    /// Like [`from_env`](Params::from_env), with `source` in place of SSM:
    /// `source` inside Lambda (or when `HALO_PARAMS_SOURCE` is `aws`), the
    /// `HALO_PARAM_*` variables and `HALO_PARAMS_FILE` elsewhere, so a
    /// local run needs no AWS account.
    ///
    /// ```no_run
    /// # async fn init() -> Result<(), halo::params::ParamsError> {
    /// use halo::params::{Params, Secret, SecretsSource};
    ///
    /// // Secrets Manager in Lambda; locally `HALO_PARAM_SHOP__PROD__API_KEY`.
    /// let secrets = Params::from_env_or(SecretsSource::from_env().await).await?;
    /// let api_key: Secret<String> = secrets.get("shop/prod/api-key").await?;
    /// # let _ = api_key;
    /// # Ok(()) }
    /// ```
    pub async fn from_env_or(source: impl Source) -> Result<Params, ParamsError> {
        match source_from_env()? {
            Chosen::Aws => Params::chosen(Arc::new(source), false),
            Chosen::Env => Params::local(),
        }
    }

    /// The environment source, its file settable by [`local_file`](Params::local_file).
    fn local() -> Result<Params, ParamsError> {
        let env = EnvSource::from_env();
        let file_unset = !env.reads_a_file();
        Params::chosen(Arc::new(env), file_unset)
    }

    fn chosen(source: Arc<dyn Source>, file_unset: bool) -> Result<Params, ParamsError> {
        let max_age = max_age_from_env()?;
        tracing::debug!(source = source.name(), max_age_ms = max_age.as_millis() as u64, "parameters source chosen");
        Ok(Params { source, max_age, policy: RefreshPolicy::default(), singles: Arc::default(), file_unset })
    }

    /// Reads `file` too when [`from_env`](Params::from_env) chose the
    /// environment source and `HALO_PARAMS_FILE` names no file: a local
    /// run's defaults. Ignored with SSM or a source of one's own.
    #[must_use]
    pub fn local_file(mut self, file: impl Into<PathBuf>) -> Params {
        if self.file_unset {
            self.source = Arc::new(EnvSource::from_env().default_file(file));
            self.file_unset = false;
        }
        self
    }

    /// Sets the default max age of cached values.
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Params {
        self.max_age = max_age;
        self
    }

    /// Sets how failed refreshes are retried.
    #[must_use]
    pub fn refresh_policy(mut self, policy: RefreshPolicy) -> Params {
        self.policy = policy;
        self
    }

    /// Loads every parameter under `path` into a `T` (see the [module
    /// docs](self)). Call it once, at init, and keep the [`LiveConfig`].
    ///
    /// Errors: an invalid path, no parameter under it, a missing or
    /// mistyped field, a value over 8 KB, SSM throttling or unreachable
    /// (with the cause).
    pub async fn load<T>(&self, path: &str) -> Result<LiveConfig<T>, ParamsError>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        self.load_with(path, self.max_age).await
    }

    /// [`load`](Params::load) with a max age for this path.
    pub async fn load_with<T>(&self, path: &str, max_age: Duration) -> Result<LiveConfig<T>, ParamsError>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        self.source.validate_name(path)?;
        let path = match path.trim_end_matches('/') {
            "" => "/".to_owned(),
            trimmed => trimmed.to_owned(),
        };
        let source = Arc::clone(&self.source);
        let fetch_path = path.clone();
        let fetch: Fetch<T> = Arc::new(move || {
            let source = Arc::clone(&source);
            let path = fetch_path.clone();
            Box::pin(async move { load_path(&*source, &path).await })
        });
        self.live(path, max_age, fetch).await
    }

    /// One parameter, secret or profile into a `T`, kept live like
    /// [`load`](Params::load): read now, served from memory, refreshed in
    /// the background after the max age. The way to hold a secret that
    /// rotates or an AppConfig profile (feature flags included).
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use halo::params::{EnvSource, Params};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Limits { max_items: u32 }
    ///
    /// let params = Params::new(EnvSource::from_vars([("HALO_PARAM_LIMITS", r#"{"max_items": 50}"#)]));
    /// let limits = params.load_one::<Limits>("limits").await?;
    /// assert_eq!(limits.get().max_items, 50);
    /// # Ok::<(), halo::params::ParamsError>(())
    /// # }).unwrap();
    /// ```
    pub async fn load_one<T>(&self, name: &str) -> Result<LiveConfig<T>, ParamsError>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        self.source.validate_name(name)?;
        let single = self.single_fetch(name);
        let fetch: Fetch<T> = Arc::new(move || {
            let single = Arc::clone(&single);
            Box::pin(async move { tree::from_parameter(&single().await?) })
        });
        self.live(name.to_owned(), self.max_age, fetch).await
    }

    /// Reads a value with `fetch` and keeps it live.
    async fn live<T>(&self, what: String, max_age: Duration, fetch: Fetch<T>) -> Result<LiveConfig<T>, ParamsError>
    where
        T: Send + Sync + 'static,
    {
        let started = Instant::now();
        let value = fetch().await?;
        tracing::info!(
            path = %what,
            source = self.source.name(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "configuration loaded"
        );
        Ok(LiveConfig::build(what, value, max_age, Some(fetch), self.policy))
    }

    /// One parameter's value as a `T` (a string as it is, other types
    /// parsed as JSON; a `StringList` into `Vec<String>`), cached.
    pub async fn get<T: DeserializeOwned>(&self, name: &str) -> Result<T, ParamsError> {
        self.get_with(name, GetOptions::new()).await
    }

    /// [`get`](Params::get) with per-call options.
    pub async fn get_with<T: DeserializeOwned>(&self, name: &str, options: GetOptions) -> Result<T, ParamsError> {
        let parameter = self.parameter_with(name, options).await?;
        tree::from_parameter(&parameter)
    }

    /// One parameter as read (name, value, type, version), cached.
    pub(crate) async fn parameter_with(&self, name: &str, options: GetOptions) -> Result<Arc<Parameter>, ParamsError> {
        let mut found = self.parameters(&[name.to_owned()], options).await?;
        found.pop().ok_or_else(|| ParamsError::new(ParamsErrorKind::NotFound, "no such parameter").at(name))
    }

    /// Several parameters by full name, keyed by name; the ones not cached
    /// are read together (`GetParameters`, 10 names per call). Any missing
    /// name is a `NotFound` error naming it.
    pub async fn get_many<T: DeserializeOwned>(
        &self,
        names: &[&str],
        options: GetOptions,
    ) -> Result<BTreeMap<String, T>, ParamsError> {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let found = self.parameters(&names, options).await?;
        found.iter().map(|p| Ok((p.name().to_owned(), tree::from_parameter(p)?))).collect()
    }

    /// Cached parameters in the order of `names`, reading the others.
    async fn parameters(&self, names: &[String], options: GetOptions) -> Result<Vec<Arc<Parameter>>, ParamsError> {
        for name in names {
            self.source.validate_name(name)?;
        }
        let max_age = options.max_age.unwrap_or(self.max_age);
        let mut out: Vec<Option<Arc<Parameter>>> = vec![None; names.len()];
        let mut to_read: Vec<String> = Vec::new();
        {
            let singles = crate::lock::lock(&self.singles);
            for (slot, name) in out.iter_mut().zip(names) {
                match singles.get(name) {
                    Some(config) if !options.force => *slot = Some(config.get_within(max_age).into_arc()),
                    _ if !to_read.contains(name) => to_read.push(name.clone()),
                    _ => {}
                }
            }
        }
        if !to_read.is_empty() {
            let read = self.source.get_many(&to_read).await?;
            let mut singles = crate::lock::lock(&self.singles);
            for parameter in read {
                let name = parameter.name().to_owned();
                let config =
                    LiveConfig::build(name.clone(), parameter, max_age, Some(self.single_fetch(&name)), self.policy);
                singles.insert(name, config);
            }
            for (slot, name) in out.iter_mut().zip(names) {
                if slot.is_none() {
                    *slot = singles.get(name).map(|c| c.get_within(Duration::MAX).into_arc());
                }
            }
        }
        out.into_iter()
            .zip(names)
            .map(|(p, name)| p.ok_or_else(|| ParamsError::new(ParamsErrorKind::NotFound, "no such parameter").at(name)))
            .collect()
    }

    fn single_fetch(&self, name: &str) -> Fetch<Parameter> {
        let source = Arc::clone(&self.source);
        let name = name.to_owned();
        Arc::new(move || {
            let source = Arc::clone(&source);
            let names = vec![name.clone()];
            Box::pin(async move {
                let mut read = source.get_many(&names).await?;
                read.pop().ok_or_else(|| ParamsError::new(ParamsErrorKind::NotFound, "no such parameter").at(&names[0]))
            })
        })
    }
}

/// Reads a path and deserializes it; an empty path is an error.
async fn load_path<T: DeserializeOwned>(source: &dyn Source, path: &str) -> Result<T, ParamsError> {
    let parameters = source.get_by_path(path).await?;
    if parameters.is_empty() {
        let hint = match source.name() {
            "ssm" => "no parameters under this path (check the path and stage, the region, and the ssm:GetParametersByPath permission)".to_owned(),
            "environment" => "no parameters under this path (set HALO_PARAM_<NAME> variables or HALO_PARAMS_FILE, or HALO_PARAMS_SOURCE=ssm)".to_owned(),
            other => format!("no parameters under this path in the {other} source"),
        };
        return Err(ParamsError::new(ParamsErrorKind::NotFound, hint).at(path));
    }
    tree::from_parameters(path, &parameters)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Settings {
        greeting: String,
    }

    #[tokio::test]
    async fn an_empty_path_is_a_clear_error() {
        let params = Params::new(EnvSource::from_vars(Vec::<(String, String)>::new()));
        let err = params.load::<Settings>("/nothing/here/").await.unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::NotFound);
        assert_eq!(err.path(), Some("/nothing/here"));
        assert!(err.to_string().contains("HALO_PARAM_"), "{err}");
    }

    #[tokio::test]
    async fn an_invalid_path_is_refused_before_any_read() {
        let params = Params::new(EnvSource::from_vars([("HALO_PARAM_GREETING", "hi")]));
        let err = params.load::<Settings>("/bad\u{7}path").await.unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::Config);
    }

    #[tokio::test]
    async fn singles_are_cached_and_missing_ones_named() {
        let params = Params::new(EnvSource::from_vars([("HALO_PARAM_A__B", "1"), ("HALO_PARAM_A__C", "[1,2]")]));
        let many: BTreeMap<String, Vec<u8>> = params.get_many(&["/a/c", "/a/b"], GetOptions::new()).await.unwrap();
        assert_eq!(many["/a/c"], [1, 2]);
        assert_eq!(many["/a/b"], [1]);
        assert_eq!(params.singles.lock().unwrap().len(), 2);
        let err = params.get::<String>("/a/missing").await.unwrap_err();
        assert_eq!((err.kind(), err.path()), (ParamsErrorKind::NotFound, Some("/a/missing")));
    }

    #[test]
    fn the_source_follows_the_environment() {
        // Only reads the variables this process has; Lambda's is not set in unit tests.
        if std::env::var_os(SOURCE_ENV).is_none() && !crate::platform::in_lambda() {
            assert!(matches!(source_from_env(), Ok(Chosen::Env)));
        }
    }
}
