//! The process-wide log level: read from the environment at start, changeable
//! at run time (for example from a configuration refresh).

use std::sync::atomic::{AtomicU8, Ordering};

use tracing::Level;
use tracing_subscriber::filter::LevelFilter;

/// 0 = off, 1 = error … 5 = trace.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(3);

fn to_u8(level: LevelFilter) -> u8 {
    match level.into_level() {
        None => 0,
        Some(Level::ERROR) => 1,
        Some(Level::WARN) => 2,
        Some(Level::INFO) => 3,
        Some(Level::DEBUG) => 4,
        Some(Level::TRACE) => 5,
    }
}

fn from_u8(value: u8) -> LevelFilter {
    match value {
        0 => LevelFilter::OFF,
        1 => LevelFilter::ERROR,
        2 => LevelFilter::WARN,
        3 => LevelFilter::INFO,
        4 => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    }
}

/// The current maximum level of log lines.
pub(crate) fn level() -> LevelFilter {
    from_u8(MAX_LEVEL.load(Ordering::Relaxed))
}

/// Changes the maximum level of log lines for the whole process; takes
/// effect for the next event.
pub(crate) fn set_level(level: LevelFilter) {
    let previous = MAX_LEVEL.swap(to_u8(level), Ordering::Relaxed);
    if previous != to_u8(level) {
        tracing::callsite::rebuild_interest_cache();
    }
}

/// Whether events of `level` pass the current maximum.
pub(crate) fn passes(event_level: &Level) -> bool {
    *event_level <= level()
}

/// Parses a level name as Lambda and Powertools spell them, case-insensitive:
/// `TRACE`, `DEBUG`, `INFO`, `WARN`/`WARNING`, `ERROR`, `FATAL`/`CRITICAL`
/// (both mean error), `OFF`.
pub(crate) fn parse_level(name: &str) -> Option<LevelFilter> {
    match name.trim().to_ascii_lowercase().as_str() {
        "trace" => Some(LevelFilter::TRACE),
        "debug" => Some(LevelFilter::DEBUG),
        "info" => Some(LevelFilter::INFO),
        "warn" | "warning" => Some(LevelFilter::WARN),
        "error" | "fatal" | "critical" => Some(LevelFilter::ERROR),
        "off" => Some(LevelFilter::OFF),
        _ => None,
    }
}

/// The level configured by the environment: `HALO_LOG_LEVEL`, else
/// `AWS_LAMBDA_LOG_LEVEL` (set by Lambda's advanced logging controls), else
/// `INFO`. An unparsable value is skipped.
pub(crate) fn level_from_env() -> LevelFilter {
    ["HALO_LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find_map(|value| parse_level(&value))
        .unwrap_or(LevelFilter::INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_level() {
        for level in [
            LevelFilter::OFF,
            LevelFilter::ERROR,
            LevelFilter::WARN,
            LevelFilter::INFO,
            LevelFilter::DEBUG,
            LevelFilter::TRACE,
        ] {
            assert_eq!(from_u8(to_u8(level)), level);
        }
    }
}
