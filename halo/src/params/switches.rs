//! Run-time switches read from parameters: the log level and the debug
//! sample rate, changed on refresh without a redeploy.

use serde::{Deserialize, Deserializer};
use tracing_subscriber::filter::LevelFilter;

/// Logging switches to embed in a config type, e.g. as `log` (parameters
/// `<path>/log/level` and `<path>/log/debug_sample_rate`). Both are
/// optional; a level that does not parse or a rate outside `0.0..=1.0`
/// fails the load (at init) or the refresh (the previous value stays).
///
/// Wire them with [`LiveConfig::on_change`](super::LiveConfig::on_change) so every
/// refresh applies them:
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use halo::params::{EnvSource, LogSwitches, Params};
/// use tracing_subscriber::filter::LevelFilter;
///
/// #[derive(serde::Deserialize)]
/// struct Settings { #[serde(default)] log: LogSwitches }
///
/// let params = Params::new(EnvSource::from_vars([("HALO_PARAM_LOG__LEVEL", "warn")]));
/// let config = params.load::<Settings>("/shop/prod").await.unwrap();
/// config.on_change(|settings| settings.log.apply());
/// assert_eq!(halo::log::LogSettings::current().level, LevelFilter::WARN);
/// # halo::log::LogSettings { level: LevelFilter::INFO, ..halo::log::LogSettings::current() }.apply();
/// # });
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct LogSwitches {
    /// The process log level (`TRACE` … `ERROR`, `OFF`; Lambda and
    /// Powertools spellings), as `HALO_LOG_LEVEL` reads them.
    #[serde(default, deserialize_with = "level")]
    pub level: Option<LevelFilter>,
    /// The share of invocations whose debug lines are written, `0.0..=1.0`.
    #[serde(default, deserialize_with = "rate")]
    pub debug_sample_rate: Option<f64>,
}

impl LogSwitches {
    /// Applies the switches that are set to the logger's
    /// [`LogSettings`](crate::log::LogSettings) (the rate for invocations
    /// that start afterwards); the others keep their value.
    pub fn apply(&self) {
        let current = crate::log::LogSettings::current();
        crate::log::LogSettings {
            level: self.level.unwrap_or(current.level),
            debug_sample_rate: self.debug_sample_rate.unwrap_or(current.debug_sample_rate),
            ..current
        }
        .apply();
    }
}

fn level<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<LevelFilter>, D::Error> {
    let name = String::deserialize(deserializer)?;
    crate::log::LogSettings::parse_level(&name)
        .map(Some)
        .ok_or_else(|| serde::de::Error::custom("not a log level (allowed: TRACE, DEBUG, INFO, WARN, ERROR, OFF)"))
}

fn rate<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let rate = f64::deserialize(deserializer)?;
    if (0.0..=1.0).contains(&rate) {
        Ok(Some(rate))
    } else {
        Err(serde::de::Error::custom("the debug sample rate must be between 0.0 and 1.0"))
    }
}
