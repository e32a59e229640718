//! The logger's run-time settings as one value: read them, change a field,
//! apply.

use tracing_subscriber::filter::LevelFilter;

use super::{buffer, level};

/// The variable that sizes each invocation's debug buffer.
const BUFFER_ENV: &str = "HALO_DEBUG_BUFFER_BYTES";

/// The logger's settings for the whole process: the maximum level, the
/// debug sample rate and the size of each invocation's debug buffer.
///
/// [`crate::log::init`] applies [`LogSettings::from_env`]; change them at
/// run time (after a configuration refresh, in a test) by applying a
/// changed copy of [`LogSettings::current`]. A change takes effect for the
/// next log line (level) or the next invocation (rate, buffer).
///
/// ```
/// use halo::log::LogSettings;
/// use tracing_subscriber::filter::LevelFilter;
///
/// let before = LogSettings::current();
/// LogSettings { level: LevelFilter::WARN, debug_sample_rate: 7.0, ..before }.apply();
/// let now = LogSettings::current();
/// assert_eq!(now.level, LevelFilter::WARN);
/// assert_eq!(now.debug_sample_rate, 1.0, "a rate is clamped to 0.0-1.0");
/// # before.apply();
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogSettings {
    /// The maximum level of log lines (`HALO_LOG_LEVEL`, else
    /// `AWS_LAMBDA_LOG_LEVEL`, else `INFO`).
    pub level: LevelFilter,
    /// The share of invocations, 0.0 to 1.0, whose debug lines are written
    /// (`HALO_DEBUG_SAMPLE_RATE`, default 0).
    pub debug_sample_rate: f64,
    /// The bytes of debug lines each unsampled invocation holds back, written
    /// only if it fails (`HALO_DEBUG_BUFFER_BYTES`, default 20 KiB; 0 turns
    /// buffering off).
    pub debug_buffer_bytes: usize,
}

impl LogSettings {
    /// The settings in effect.
    pub fn current() -> LogSettings {
        LogSettings {
            level: level::level(),
            debug_sample_rate: crate::correlation::sampling::debug_sample_rate(),
            debug_buffer_bytes: buffer::debug_buffer_bytes(),
        }
    }

    /// The settings the environment asks for (each unset or unreadable
    /// variable gives its default).
    pub fn from_env() -> LogSettings {
        LogSettings {
            level: level::level_from_env(),
            debug_sample_rate: crate::correlation::sampling::sample_rate_from_env().0,
            debug_buffer_bytes: std::env::var(BUFFER_ENV)
                .ok()
                .and_then(|bytes| bytes.trim().parse().ok())
                .unwrap_or(buffer::DEFAULT_DEBUG_BUFFER_BYTES),
        }
    }

    /// Makes these the process's settings. A rate outside 0.0–1.0 is
    /// clamped (not-a-number is 0).
    pub fn apply(&self) {
        level::set_level(self.level);
        crate::correlation::sampling::set_debug_sample_rate(self.debug_sample_rate);
        buffer::set_debug_buffer_bytes(self.debug_buffer_bytes);
    }

    /// Parses a level name as Lambda and Powertools spell them,
    /// case-insensitive: `TRACE`, `DEBUG`, `INFO`, `WARN`/`WARNING`,
    /// `ERROR`, `FATAL`/`CRITICAL` (both mean error), `OFF`.
    pub(crate) fn parse_level(name: &str) -> Option<LevelFilter> {
        level::parse_level(name)
    }
}
