//! The `timestamp` of a log line: RFC 3339, UTC, milliseconds
//! (`2026-12-06T04:32:47.218Z`), without a formatter per line: the part up
//! to the second is rendered once per second per thread.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Appends the current time, e.g. `2026-12-06T04:32:47.218Z` (no quotes).
pub(crate) fn push_now(line: &mut Vec<u8>) {
    push(line, SystemTime::now());
}

/// Appends `at` as RFC 3339 UTC with milliseconds.
pub(crate) fn push(line: &mut Vec<u8>, at: SystemTime) {
    thread_local! {
        /// The last second rendered, and `YYYY-MM-DDTHH:MM:SS.` for it.
        static SECOND: RefCell<(u64, [u8; 20])> = const { RefCell::new((u64::MAX, [0; 20])) };
    }
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (seconds, millis) = (since.as_secs(), since.subsec_millis());
    SECOND.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.0 != seconds {
            *cache = (seconds, render_second(seconds));
        }
        line.extend_from_slice(&cache.1);
    });
    line.extend_from_slice(&[
        b'0' + (millis / 100) as u8,
        b'0' + (millis / 10 % 10) as u8,
        b'0' + (millis % 10) as u8,
        b'Z',
    ]);
}

/// `YYYY-MM-DDTHH:MM:SS.` for `seconds` since the epoch (proleptic
/// Gregorian calendar, days to civil date after Howard Hinnant).
fn render_second(seconds: u64) -> [u8; 20] {
    let days = (seconds / 86_400) as i64;
    let in_day = seconds % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as u64;
    let mut out = [0u8; 20];
    let digits = |out: &mut [u8], value: u64| {
        let mut value = value;
        for slot in out.iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    digits(&mut out[0..4], year % 10_000);
    out[4] = b'-';
    digits(&mut out[5..7], month);
    out[7] = b'-';
    digits(&mut out[8..10], day);
    out[10] = b'T';
    digits(&mut out[11..13], in_day / 3_600);
    out[13] = b':';
    digits(&mut out[14..16], in_day / 60 % 60);
    out[16] = b':';
    digits(&mut out[17..19], in_day % 60);
    out[19] = b'.';
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn matches_humantime_across_dates() {
        let samples =
            [0u64, 951_782_400_123, 1_733_450_000_999, 4_102_444_799_000, 1_709_164_800_000, 1_796_523_804_396];
        let mut at = 1_000u64;
        let mut all: Vec<u64> = samples.to_vec();
        for _ in 0..2_000 {
            at = at.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) % 8_000_000_000_000;
            all.push(at);
        }
        for ms in all {
            let time = UNIX_EPOCH + Duration::from_millis(ms);
            let mut line = Vec::new();
            push(&mut line, time);
            assert_eq!(String::from_utf8(line).unwrap(), humantime::format_rfc3339_millis(time).to_string(), "{ms}");
        }
    }
}
