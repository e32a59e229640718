//! The debug-log sample rate: the share of invocations (at the edge of a
//! call chain) whose debug lines are emitted.

use std::sync::atomic::{AtomicU64, Ordering};

static RATE_BITS: AtomicU64 = AtomicU64::new(0); // 0.0_f64

/// The current sample rate, 0.0 to 1.0.
pub(crate) fn debug_sample_rate() -> f64 {
    f64::from_bits(RATE_BITS.load(Ordering::Relaxed))
}

/// Sets the sample rate (clamped to 0.0–1.0; not-a-number means 0) for the
/// invocations that start from now on. Can follow a configuration refresh.
pub(crate) fn set_debug_sample_rate(rate: f64) {
    let rate = if rate.is_nan() { 0.0 } else { rate.clamp(0.0, 1.0) };
    RATE_BITS.store(rate.to_bits(), Ordering::Relaxed);
}

/// Parses a sample rate; `None` unless it is a number from 0.0 to 1.0.
pub(crate) fn parse_sample_rate(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|r| (0.0..=1.0).contains(r))
}

/// The rate configured by `HALO_DEBUG_SAMPLE_RATE` (default 0), and the
/// rejected text when the variable is set but not a rate.
pub(crate) fn sample_rate_from_env() -> (f64, Option<String>) {
    match std::env::var("HALO_DEBUG_SAMPLE_RATE") {
        Ok(text) => match parse_sample_rate(&text) {
            Some(rate) => (rate, None),
            None => (0.0, Some(text)),
        },
        Err(_) => (0.0, None),
    }
}
