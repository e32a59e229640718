//! Parameters from environment variables and a local JSON file.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::{ParamsError, ParamsErrorKind};
use super::provider::{Parameter, ParameterKind, Source};
use crate::future::BoxFuture;

/// The prefix of parameter environment variables.
pub(crate) const ENV_PREFIX: &str = "HALO_PARAM_";

/// The variable naming the local parameters file.
pub(crate) const FILE_ENV: &str = "HALO_PARAMS_FILE";

/// The environment key of a parameter name (see [`EnvSource`]).
pub(crate) fn env_key(name: &str) -> String {
    let mut key = String::from(ENV_PREFIX);
    for (i, segment) in name.trim_matches('/').split('/').enumerate() {
        if i > 0 {
            key.push_str("__");
        }
        key.extend(segment.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }));
    }
    key
}

/// The relative name an environment key stands for in a path load.
fn relative_name(key: &str) -> Option<String> {
    let rest = key.strip_prefix(ENV_PREFIX)?;
    if rest.is_empty() {
        return None;
    }
    Some(rest.to_ascii_lowercase().replace("__", "/"))
}

/// Parameters from `HALO_PARAM_*` environment variables and an optional
/// JSON file (see below for the mapping). Every value is
/// a `String` parameter, except arrays in the file (`StringList`).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use halo::params::{EnvSource, Params};
///
/// let source = EnvSource::from_vars([("HALO_PARAM_DB__PORT", "5432"), ("HALO_PARAM_GREETING", "hi")]);
/// let params = Params::new(source);
///
/// #[derive(serde::Deserialize)]
/// struct Db { port: u16 }
/// #[derive(serde::Deserialize)]
/// struct Settings { greeting: String, db: Db }
///
/// let config = params.load::<Settings>("/shop/prod").await.unwrap();
/// assert_eq!(config.get().db.port, 5432);
/// # });
/// ```
///
/// # Environment variables
///
/// A parameter's environment key is made from its name: `HALO_PARAM_`,
/// then the name without its leading and trailing `/`, upper-cased, with
/// `/` written `__` and every other character outside `A-Z0-9_` written
/// `_`.
///
/// | read as | parameter | variable |
/// |---|---|---|
/// | path load of `/shop/prod` | `/shop/prod/db/host` | `HALO_PARAM_DB__HOST` (the name **relative to the path**) |
/// | single get | `/shop/prod/api-key` | `HALO_PARAM_SHOP__PROD__API_KEY` (the **full name**) |
///
/// For a path load the variables are read back into names: lower-cased,
/// `__` becomes `/`. So `HALO_PARAM_DB__MAX_CONNECTIONS` is the field
/// `max_connections` of the field `db`. (Names with `-` or capitals cannot
/// be spelled this way: use the file, or a `#[serde(alias)]`.)
///
/// # The file
///
/// `HALO_PARAMS_FILE` (or [`EnvSource::with_file`]) names a JSON object of
/// full parameter names to values: a string is a `String` parameter, an
/// array of strings a `StringList`, anything else a `String` holding that
/// JSON. Environment variables win over the file.
///
/// ```json
/// { "/shop/prod/db/host": "localhost", "/shop/prod/origins": ["http://localhost:3000"],
///   "/shop/prod/features": {"beta": true} }
/// ```
#[derive(Debug, Clone, Default)]
pub struct EnvSource {
    /// Fixed variables instead of the process environment, if set.
    vars: Option<Vec<(String, String)>>,
    file: Option<PathBuf>,
}

impl EnvSource {
    /// Reads the process environment at every load, and the file named by
    /// `HALO_PARAMS_FILE` if set.
    pub fn from_env() -> EnvSource {
        EnvSource { vars: None, file: std::env::var_os(FILE_ENV).map(PathBuf::from) }
    }

    /// Uses these variables instead of the process environment (and no
    /// file): for tests.
    pub fn from_vars<K: Into<String>, V: Into<String>>(vars: impl IntoIterator<Item = (K, V)>) -> EnvSource {
        EnvSource { vars: Some(vars.into_iter().map(|(k, v)| (k.into(), v.into())).collect()), file: None }
    }

    /// Also reads `file` (replaces a file given by `HALO_PARAMS_FILE`).
    #[must_use]
    pub fn with_file(mut self, file: impl Into<PathBuf>) -> EnvSource {
        self.file = Some(file.into());
        self
    }

    /// Reads `file` unless `HALO_PARAMS_FILE` named one.
    #[must_use]
    pub fn default_file(mut self, file: impl Into<PathBuf>) -> EnvSource {
        if self.file.is_none() {
            self.file = Some(file.into());
        }
        self
    }

    /// Whether a file is read besides the variables.
    pub(crate) fn reads_a_file(&self) -> bool {
        self.file.is_some()
    }

    fn env_vars(&self) -> Vec<(String, String)> {
        match &self.vars {
            Some(vars) => vars.clone(),
            None => std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .filter(|(k, _)| k.starts_with(ENV_PREFIX))
                .collect(),
        }
    }

    fn file_parameters(&self) -> Result<BTreeMap<String, Parameter>, ParamsError> {
        let Some(file) = &self.file else { return Ok(BTreeMap::new()) };
        let shown = file.display().to_string();
        let text = std::fs::read_to_string(file).map_err(|e| {
            ParamsError::new(ParamsErrorKind::Config, "cannot read the parameters file").at(&shown).with_source(e)
        })?;
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            ParamsError::new(
                ParamsErrorKind::Config,
                format!("the parameters file is not valid JSON (line {}, column {})", e.line(), e.column()),
            )
            .at(&shown)
        })?;
        let serde_json::Value::Object(entries) = json else {
            return Err(ParamsError::new(
                ParamsErrorKind::Config,
                "the parameters file must be a JSON object of names to values",
            )
            .at(shown));
        };
        let mut out = BTreeMap::new();
        for (name, value) in entries {
            super::provider::validate_any_name(&name)?;
            let parameter = match value {
                serde_json::Value::String(s) => Parameter::new(&name, s, ParameterKind::String),
                serde_json::Value::Array(items) if items.iter().all(|i| i.is_string()) => {
                    let items: Vec<&str> = items.iter().filter_map(|i| i.as_str()).collect();
                    Parameter::new(&name, items.join(","), ParameterKind::StringList)
                }
                other => Parameter::new(&name, other.to_string(), ParameterKind::String),
            };
            parameter.check_size()?;
            out.insert(name, parameter);
        }
        Ok(out)
    }

    fn by_path(&self, path: &str) -> Result<Vec<Parameter>, ParamsError> {
        let prefix = format!("{}/", path.trim_end_matches('/'));
        let mut found: BTreeMap<String, Parameter> =
            self.file_parameters()?.into_iter().filter(|(name, _)| name.starts_with(&prefix)).collect();
        for (key, value) in self.env_vars() {
            if let Some(relative) = relative_name(&key) {
                let name = format!("{prefix}{relative}");
                let parameter = Parameter::new(&name, value, ParameterKind::String);
                parameter.check_size()?;
                found.insert(name, parameter);
            }
        }
        Ok(found.into_values().collect())
    }

    fn by_names(&self, names: &[String]) -> Result<Vec<Parameter>, ParamsError> {
        let file = self.file_parameters()?;
        let vars: BTreeMap<String, String> = self.env_vars().into_iter().collect();
        names
            .iter()
            .map(|name| {
                let parameter = match vars.get(&env_key(name)) {
                    Some(value) => Parameter::new(name, value, ParameterKind::String),
                    None => file.get(name).cloned().ok_or_else(|| {
                        ParamsError::new(
                            ParamsErrorKind::NotFound,
                            format!("no such parameter (set {} or add it to the parameters file)", env_key(name)),
                        )
                        .at(name)
                    })?,
                };
                parameter.check_size()?;
                Ok(parameter)
            })
            .collect()
    }
}

impl Source for EnvSource {
    fn get_by_path<'a>(&'a self, path: &'a str) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
        Box::pin(std::future::ready(self.by_path(path)))
    }

    fn get_many<'a>(&'a self, names: &'a [String]) -> BoxFuture<'a, Result<Vec<Parameter>, ParamsError>> {
        Box::pin(std::future::ready(self.by_names(names)))
    }

    fn name(&self) -> &'static str {
        "environment"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_for_snake_case_names() {
        assert_eq!(env_key("db/max_connections"), "HALO_PARAM_DB__MAX_CONNECTIONS");
        assert_eq!(relative_name("HALO_PARAM_DB__MAX_CONNECTIONS").as_deref(), Some("db/max_connections"));
        assert_eq!(relative_name("HALO_PARAM_"), None);
        assert_eq!(relative_name("HALO_PARAMS_FILE"), None);
    }

    #[test]
    fn variables_win_over_the_file() {
        let dir = std::env::temp_dir().join(format!("halo-params-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("params.json");
        std::fs::write(&file, r#"{"/app/a": "from-file", "/app/b": ["x", "y"], "/app/c": {"n": 1}, "/other/d": "no"}"#)
            .unwrap();
        let source =
            EnvSource::from_vars([("HALO_PARAM_A", "from-env"), ("HALO_PARAM_APP__E", "single")]).with_file(&file);
        let found = source.by_path("/app").unwrap();
        let by_name: BTreeMap<&str, &Parameter> = found.iter().map(|p| (p.name(), p)).collect();
        assert_eq!(by_name["/app/a"].value(), "from-env");
        assert_eq!(by_name["/app/b"].kind(), ParameterKind::StringList);
        assert_eq!(by_name["/app/b"].value(), "x,y");
        assert_eq!(by_name["/app/c"].value(), r#"{"n":1}"#);
        assert!(!by_name.contains_key("/other/d"));

        let singles = source.by_names(&["/app/e".to_owned(), "/app/c".to_owned()]).unwrap();
        assert_eq!(singles[0].value(), "single");
        assert_eq!(singles[1].value(), r#"{"n":1}"#);
        let err = source.by_names(&["/app/zz".to_owned()]).unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::NotFound);
        assert!(err.to_string().contains("HALO_PARAM_APP__ZZ"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bad_file_is_a_clear_error() {
        let source = EnvSource::from_vars(Vec::<(String, String)>::new()).with_file("/nonexistent/halo-params.json");
        let err = source.by_path("/app").unwrap_err();
        assert_eq!(err.kind(), ParamsErrorKind::Config);
        assert_eq!(err.path(), Some("/nonexistent/halo-params.json"));
    }
}
