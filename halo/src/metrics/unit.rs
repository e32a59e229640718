//! CloudWatch metric units and storage resolutions.

use std::fmt;

/// The unit of a metric, as CloudWatch names it.
///
/// ```
/// use halo::metrics::Unit;
///
/// assert_eq!(Unit::Milliseconds.to_string(), "Milliseconds");
/// assert_eq!(Unit::BytesPerSecond.to_string(), "Bytes/Second");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unit {
    /// `Seconds`
    Seconds,
    /// `Microseconds`
    Microseconds,
    /// `Milliseconds`
    Milliseconds,
    /// `Bytes`
    Bytes,
    /// `Kilobytes`
    Kilobytes,
    /// `Megabytes`
    Megabytes,
    /// `Gigabytes`
    Gigabytes,
    /// `Terabytes`
    Terabytes,
    /// `Bits`
    Bits,
    /// `Kilobits`
    Kilobits,
    /// `Megabits`
    Megabits,
    /// `Gigabits`
    Gigabits,
    /// `Terabits`
    Terabits,
    /// `Percent`
    Percent,
    /// `Count`
    Count,
    /// `Bytes/Second`
    BytesPerSecond,
    /// `Kilobytes/Second`
    KilobytesPerSecond,
    /// `Megabytes/Second`
    MegabytesPerSecond,
    /// `Gigabytes/Second`
    GigabytesPerSecond,
    /// `Terabytes/Second`
    TerabytesPerSecond,
    /// `Bits/Second`
    BitsPerSecond,
    /// `Kilobits/Second`
    KilobitsPerSecond,
    /// `Megabits/Second`
    MegabitsPerSecond,
    /// `Gigabits/Second`
    GigabitsPerSecond,
    /// `Terabits/Second`
    TerabitsPerSecond,
    /// `Count/Second`
    CountPerSecond,
    /// `None`: a value without a unit.
    None,
}

impl Unit {
    /// The unit's name in an EMF directive.
    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "Seconds",
            Unit::Microseconds => "Microseconds",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
            Unit::Kilobytes => "Kilobytes",
            Unit::Megabytes => "Megabytes",
            Unit::Gigabytes => "Gigabytes",
            Unit::Terabytes => "Terabytes",
            Unit::Bits => "Bits",
            Unit::Kilobits => "Kilobits",
            Unit::Megabits => "Megabits",
            Unit::Gigabits => "Gigabits",
            Unit::Terabits => "Terabits",
            Unit::Percent => "Percent",
            Unit::Count => "Count",
            Unit::BytesPerSecond => "Bytes/Second",
            Unit::KilobytesPerSecond => "Kilobytes/Second",
            Unit::MegabytesPerSecond => "Megabytes/Second",
            Unit::GigabytesPerSecond => "Gigabytes/Second",
            Unit::TerabytesPerSecond => "Terabytes/Second",
            Unit::BitsPerSecond => "Bits/Second",
            Unit::KilobitsPerSecond => "Kilobits/Second",
            Unit::MegabitsPerSecond => "Megabits/Second",
            Unit::GigabitsPerSecond => "Gigabits/Second",
            Unit::TerabitsPerSecond => "Terabits/Second",
            Unit::CountPerSecond => "Count/Second",
            Unit::None => "None",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How finely CloudWatch stores a metric: every minute (standard, the
/// default) or every second (high resolution, billed as such).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Resolution {
    /// 60-second storage resolution.
    #[default]
    Standard,
    /// 1-second storage resolution.
    High,
}

impl Resolution {}
