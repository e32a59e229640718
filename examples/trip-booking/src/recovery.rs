//! What the scheduled recovery function (`trip-recovery`) does, from its
//! environment:
//!
//! - `TRIP_RECOVER_STALLED_AFTER_S` (default 300): a saga without a write
//!   for this many seconds is stalled (a container killed mid-saga, a
//!   suspended saga nobody retried);
//! - `TRIP_RECOVER_COMPENSATE_AFTER_S` (unset by default): a stalled trip
//!   started longer ago than this is cancelled (compensated) instead of
//!   resumed. Its interrupted step, if any, may have booked: that booking
//!   is cancelled by the step's token.

use std::time::Duration;

use halo::saga::RecoverOptions;

/// Seconds without progress before a saga is recovered.
pub const STALLED_AFTER_ENV: &str = "TRIP_RECOVER_STALLED_AFTER_S";
/// Age in seconds past which a stalled trip is compensated, not resumed.
pub const COMPENSATE_AFTER_ENV: &str = "TRIP_RECOVER_COMPENSATE_AFTER_S";

/// The recovery options the environment asks for.
pub fn options_from_env() -> Result<RecoverOptions, String> {
    options(std::env::var(STALLED_AFTER_ENV).ok().as_deref(), std::env::var(COMPENSATE_AFTER_ENV).ok().as_deref())
}

/// The recovery options for these variable values (`None`: unset).
///
/// ```
/// assert!(trip_booking::recovery::options(Some("0"), Some("3600")).is_ok());
/// assert!(trip_booking::recovery::options(Some("soon"), None).is_err());
/// ```
pub fn options(stalled_after: Option<&str>, compensate_after: Option<&str>) -> Result<RecoverOptions, String> {
    let mut options = RecoverOptions::default();
    if let Some(after) = seconds(STALLED_AFTER_ENV, stalled_after)? {
        options = options.stalled_after(after);
    }
    if let Some(after) = seconds(COMPENSATE_AFTER_ENV, compensate_after)? {
        options = options.compensate_after(after);
    }
    Ok(options)
}

fn seconds(name: &str, value: Option<&str>) -> Result<Option<Duration>, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<u64>()
            .map(|s| Some(Duration::from_secs(s)))
            .map_err(|_| format!("{name} must be a whole number of seconds")),
    }
}
