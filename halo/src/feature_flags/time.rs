//! The schedule conditions: a time of day, a date-time range and days of
//! the week, in a time zone, read from halo's clock.
//!
//! Powertools compares the wall-clock times of one time zone (its
//! `datetime`s share one `tzinfo`, so Python compares them without their
//! offsets): so does this module, on `jiff`'s civil date-times.

use jiff::Timestamp;
use jiff::civil::{Date, DateTime, ISOWeekDate, Weekday};
use jiff::tz::TimeZone;

/// A schedule condition, with its time zone resolved at load.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    pub(crate) zone: TimeZone,
    pub(crate) window: Window,
}

/// What a schedule condition accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Window {
    /// Minutes since midnight, both ends included; `end < start` crosses
    /// midnight.
    TimeOfDay { start: u16, end: u16 },
    /// Wall-clock date-times, both ends included.
    Datetime { start: DateTime, end: DateTime },
    /// Days of the week, bit 0 Monday ... bit 6 Sunday.
    Days(u8),
}

impl Schedule {
    /// Whether the wall-clock time of `now_ms` in the zone is inside the
    /// window. A time outside jiff's range (beyond year 9999) never is.
    pub(crate) fn matches(&self, now_ms: u64) -> bool {
        let Some(now) = i64::try_from(now_ms).ok().and_then(|ms| Timestamp::from_millisecond(ms).ok()) else {
            return false;
        };
        let now = self.zone.to_datetime(now);
        match &self.window {
            Window::TimeOfDay { start, end } => {
                let minute = u16::try_from(now.hour()).unwrap_or(0) * 60 + u16::try_from(now.minute()).unwrap_or(0);
                if end < start { *start <= minute || minute <= *end } else { *start <= minute && minute <= *end }
            }
            Window::Datetime { start, end } => *start <= now && now <= *end,
            Window::Days(days) => days & day_bit(now.weekday()) != 0,
        }
    }
}

/// The bit of a day in [`Window::Days`].
pub(crate) fn day_bit(day: Weekday) -> u8 {
    1 << (day.to_monday_zero_offset() as u8)
}

/// A day's bit from its name in Powertools' `TimeValues` (`MONDAY` ...).
pub(crate) fn day_named(name: &str) -> Option<u8> {
    let day = match name {
        "MONDAY" => Weekday::Monday,
        "TUESDAY" => Weekday::Tuesday,
        "WEDNESDAY" => Weekday::Wednesday,
        "THURSDAY" => Weekday::Thursday,
        "FRIDAY" => Weekday::Friday,
        "SATURDAY" => Weekday::Saturday,
        "SUNDAY" => Weekday::Sunday,
        _ => return None,
    };
    Some(day_bit(day))
}

/// The time zone of an IANA name in halo's bundled tz database, spelled
/// exactly as the database spells it (Powertools' `dateutil` looks names
/// up as file names: `europe/paris` is not a zone there).
pub(crate) fn zone_named(name: &str) -> Option<TimeZone> {
    let zone = jiff::tz::db().get(name).ok()?;
    (zone.iana_name() == Some(name)).then_some(zone)
}

/// `HH:MM` on a 24 hour clock (Powertools' pattern
/// `(?:2[0-3]|[01]\d):[0-5]\d`, ASCII digits) as minutes since midnight.
pub(crate) fn parse_hh_mm(text: &str) -> Option<u16> {
    let &[h1, h2, b':', m1, m2] = text.as_bytes() else { return None };
    let digit = |b: u8| b.is_ascii_digit().then(|| u16::from(b - b'0'));
    let (hours, minutes) = (digit(h1)? * 10 + digit(h2)?, digit(m1)? * 10 + digit(m2)?);
    (hours <= 23 && minutes <= 59).then_some(hours * 60 + minutes)
}

/// Python 3.11's `datetime.fromisoformat` (its C implementation, quirks
/// included: any character between date and time, `12:30.5`, week dates)
/// for a date-time without an offset. `None` where Python refuses the
/// text, and where it finds an offset (`Z`, `+01:00`): Powertools refuses
/// those too, the zone being the condition's `TIMEZONE`.
pub(crate) fn parse_iso_datetime(text: &str) -> Option<DateTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 7 {
        return None;
    }
    let separator = datetime_separator(bytes)?;
    let date = parse_date(bytes, separator)?;
    let (mut hour, mut minute, mut second, mut micro) = (0, 0, 0, 0);
    if bytes.len() > separator {
        // Skip the separator, one character of any width.
        let width = text.get(separator..).and_then(|rest| rest.chars().next()).map_or(1, char::len_utf8);
        let time = bytes.get(separator + width..).unwrap_or_default();
        if time.iter().any(|b| matches!(b, b'Z' | b'+' | b'-')) {
            return None;
        }
        [hour, minute, second, micro] = parse_time(time)?;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let time = jiff::civil::Time::new(hour as i8, minute as i8, second as i8, micro * 1000).ok()?;
    Some(date.to_datetime(time))
}

/// The byte at `i`, or 0 past the end (C's terminator).
fn at(bytes: &[u8], i: usize) -> u8 {
    bytes.get(i).copied().unwrap_or(0)
}

/// `count` ASCII digits at `*pos`, advancing it.
fn digits(bytes: &[u8], pos: &mut usize, count: usize) -> Option<i32> {
    let mut value = 0_i32;
    for _ in 0..count {
        let b = at(bytes, *pos);
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i32::from(b - b'0');
        *pos += 1;
    }
    Some(value)
}

/// CPython's `_find_isoformat_datetime_separator`.
fn datetime_separator(bytes: &[u8]) -> Option<usize> {
    let len = bytes.len();
    if len == 7 {
        return Some(7);
    }
    if at(bytes, 4) == b'-' {
        if at(bytes, 5) != b'W' {
            return Some(10);
        }
        if len < 8 {
            return None;
        }
        if len > 8 && at(bytes, 8) == b'-' {
            if len == 9 {
                return None;
            }
            if len > 10 && at(bytes, 10).is_ascii_digit() {
                return Some(8);
            }
            return Some(10);
        }
        return Some(8);
    }
    if at(bytes, 4) == b'W' {
        let mut idx = 7;
        while idx < len && at(bytes, idx).is_ascii_digit() {
            idx += 1;
        }
        if idx < 9 {
            return Some(idx);
        }
        return Some(if idx % 2 == 0 { 7 } else { 8 });
    }
    Some(8)
}

/// CPython's `parse_isoformat_date`, then the range checks of `datetime`.
fn parse_date(bytes: &[u8], len: usize) -> Option<Date> {
    let mut p = 0;
    let year = digits(bytes, &mut p, 4)?;
    let uses_separator = at(bytes, p) == b'-';
    if uses_separator {
        p += 1;
    }
    let date = if at(bytes, p) == b'W' {
        p += 1;
        let week = digits(bytes, &mut p, 2)?;
        let day = if p < len {
            if uses_separator {
                if at(bytes, p) != b'-' {
                    return None;
                }
                p += 1;
            }
            digits(bytes, &mut p, 1)?
        } else {
            1
        };
        let weekday = Weekday::from_monday_one_offset(i8::try_from(day).ok()?).ok()?;
        ISOWeekDate::new(i16::try_from(year).ok()?, i8::try_from(week).ok()?, weekday).ok()?.date()
    } else {
        let month = digits(bytes, &mut p, 2)?;
        if uses_separator {
            if at(bytes, p) != b'-' {
                return None;
            }
            p += 1;
        }
        let day = digits(bytes, &mut p, 2)?;
        Date::new(i16::try_from(year).ok()?, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()?
    };
    // Python's datetime starts at year 1.
    (1..=9999).contains(&date.year()).then_some(date)
}

/// CPython's `parse_hh_mm_ss_ff` on a time without an offset: hour,
/// minute, second, microsecond.
fn parse_time(time: &[u8]) -> Option<[i32; 4]> {
    let end = time.len();
    let mut values = [0_i32; 4];
    let mut p = 0;
    let mut has_separator = true;
    for (i, value) in values.iter_mut().take(3).enumerate() {
        *value = digits(time, &mut p, 2)?;
        let c = at(time, p);
        p += 1;
        if i == 0 {
            has_separator = c == b':';
        }
        if p >= end {
            return (c == 0).then_some(values);
        } else if has_separator && c == b':' {
            continue;
        } else if c == b'.' || c == b',' {
            break;
        } else if !has_separator {
            p -= 1;
        } else {
            return None;
        }
    }
    let to_parse = (end - p).min(6);
    let mut micro = digits(time, &mut p, to_parse)?;
    micro *= [1, 100_000, 10_000, 1_000, 100, 10, 1][to_parse];
    while at(time, p).is_ascii_digit() {
        p += 1;
    }
    values[3] = micro;
    (at(time, p) == 0).then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Option<String> {
        parse_iso_datetime(text).map(|dt| dt.to_string())
    }

    #[test]
    fn iso_datetimes_as_python_3_11_parses_them() {
        // Each case as `datetime.fromisoformat` answers it.
        assert_eq!(parsed("2022-01-01T12:30:45:50").as_deref(), Some("2022-01-01T12:30:45.5"));
        assert_eq!(parsed("20221005T1230451"), None);
        assert_eq!(parsed("2022-10-05T"), None);
        assert_eq!(parsed("2022-10-05T24:00"), None);
        assert_eq!(parsed("2022-10-05 12").as_deref(), Some("2022-10-05T12:00:00"));
        assert_eq!(parsed("2022-10-05X12:30").as_deref(), Some("2022-10-05T12:30:00"));
        assert_eq!(parsed("2022-10-05T12.5").as_deref(), Some("2022-10-05T12:00:00.5"));
        assert_eq!(parsed("2022-10-05T12:30.5").as_deref(), Some("2022-10-05T12:30:00.5"));
        assert_eq!(parsed("2022-W01").as_deref(), Some("2022-01-03T00:00:00"));
        assert_eq!(parsed("2022W011").as_deref(), Some("2022-01-03T00:00:00"));
        assert_eq!(parsed("2022-W53-1"), None);
        assert_eq!(parsed("2020-W53-1").as_deref(), Some("2020-12-28T00:00:00"));
        assert_eq!(parsed("2022-10-05T12:30:45.1234567").as_deref(), Some("2022-10-05T12:30:45.123456"));
        assert_eq!(parsed("2022-10-05T12:30:45."), None);
        assert_eq!(parsed("2022-10-05T12:3"), None);
        assert_eq!(parsed("2022-10-05T1230").as_deref(), Some("2022-10-05T12:30:00"));
        assert_eq!(parsed("2022-10-05ä12:30").as_deref(), Some("2022-10-05T12:30:00"));
        assert_eq!(parsed("2022-10-05T12:30:45,5").as_deref(), Some("2022-10-05T12:30:45.5"));
        assert_eq!(parsed("0000-01-01"), None);
        assert_eq!(parsed("2022-1-05"), None);
        assert_eq!(parsed("2022-10-05T12:30:45.123abc"), None);
        assert_eq!(parsed("2022-10-05T123045.1").as_deref(), Some("2022-10-05T12:30:45.1"));
        assert_eq!(parsed("2022-10-05T12:30:4"), None);
        assert_eq!(parsed("2022-10-05T12:30:45:5").as_deref(), Some("2022-10-05T12:30:45.5"));
        assert_eq!(parsed("2022-10-05T12:30:00Z"), None);
        assert_eq!(parsed("2022-10-05T12:30:00+01:00"), None);
        assert_eq!(parsed("2022-02-30"), None);
        assert_eq!(parsed("2022-10-05"), parsed("20221005"));
    }

    #[test]
    fn hours_and_minutes() {
        assert_eq!(parse_hh_mm("00:00"), Some(0));
        assert_eq!(parse_hh_mm("23:59"), Some(23 * 60 + 59));
        assert_eq!(parse_hh_mm("24:00"), None);
        assert_eq!(parse_hh_mm("9:00"), None);
        assert_eq!(parse_hh_mm("09:60"), None);
        assert_eq!(parse_hh_mm("09:00 "), None);
    }

    #[test]
    fn zones_are_spelled_as_in_the_database() {
        assert!(zone_named("Europe/Paris").is_some());
        assert!(zone_named("UTC").is_some());
        assert!(zone_named("europe/paris").is_none());
        assert!(zone_named("Mars/Olympus_Mons").is_none());
        assert!(zone_named("").is_none());
    }

    #[test]
    fn windows() {
        let utc = zone_named("UTC").unwrap();
        // 2024-01-01T23:30:00Z, a Monday.
        let now = 1_704_151_800_000;
        let time = |start, end| Schedule { zone: utc.clone(), window: Window::TimeOfDay { start, end } }.matches(now);
        assert!(time(23 * 60, 23 * 60 + 30));
        assert!(!time(23 * 60 + 31, 23 * 60 + 59));
        assert!(time(23 * 60 + 30, 23 * 60), "crosses midnight");
        assert!(time(22 * 60, 60));
        assert!(!time(60, 22 * 60));
        let monday = Schedule { zone: utc.clone(), window: Window::Days(day_named("MONDAY").unwrap()) };
        assert!(monday.matches(now));
        let tokyo =
            Schedule { zone: zone_named("Asia/Tokyo").unwrap(), window: Window::Days(day_named("TUESDAY").unwrap()) };
        assert!(tokyo.matches(now), "08:30 on Tuesday in Tokyo");
        let range = Schedule {
            zone: utc,
            window: Window::Datetime {
                start: parse_iso_datetime("2024-01-01T23:30").unwrap(),
                end: parse_iso_datetime("2024-01-02").unwrap(),
            },
        };
        assert!(range.matches(now));
        assert!(!range.matches(now - 1));
        assert!(!range.matches(u64::MAX));
    }
}
