//! Why a metric, dimension or metadata entry was refused.

use std::fmt;

use crate::{Error, IntoError};

/// A metric, dimension or metadata entry that CloudWatch would reject or
/// that would make the EMF line invalid. Returned to the caller; nothing
/// is written for the refused entry, and what was added before stays.
///
/// Through `?` in a handler it is an internal error (500,
/// `InvalidMetric`): the mistake is the code's, never the caller's, and
/// its text is only logged.
///
/// ```
/// use halo::metrics::{MetricsError, Unit};
///
/// let ctx = halo::Ctx::for_test();
/// let err = halo::metrics::Metrics::of(&ctx).add_metric("", Unit::Count, 1.0).unwrap_err();
/// assert!(matches!(err, MetricsError::EmptyName { .. }));
/// let err: halo::Error = err.into();
/// assert_eq!((err.status(), err.code()), (500, "InvalidMetric"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum MetricsError {
    /// A metric name, dimension name or value, or metadata key is empty
    /// (or only whitespace).
    EmptyName {
        /// What was empty: `metric name`, `dimension name`, ….
        what: &'static str,
    },
    /// A name or value is longer than CloudWatch accepts.
    TooLong {
        /// What was too long.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
    /// A dimension name or value has a character CloudWatch refuses (it
    /// takes printable ASCII; a name may not start with `:`).
    InvalidCharacters {
        /// What has them.
        what: &'static str,
    },
    /// A metric value is NaN or infinite.
    NotFinite {
        /// The metric's name.
        metric: String,
    },
    /// A dimension set would have more than 30 dimensions.
    TooManyDimensions {
        /// The limit (30).
        max: usize,
    },
    /// A dimension already has another value in this metrics set (every
    /// dimension set of one EMF line shares the line's values).
    DimensionConflict {
        /// The dimension's name.
        name: String,
    },
    /// A key is already used at the root of the EMF line by a metric, a
    /// dimension or metadata of another kind (or is `_aws`).
    KeyConflict {
        /// The key.
        name: String,
    },
    /// A metric was added again with another unit or resolution.
    DefinitionConflict {
        /// The metric's name.
        metric: String,
    },
    /// Dimensions and metadata of one metrics set would take more room
    /// than a CloudWatch log event leaves them.
    TooLarge {
        /// The budget in bytes.
        max: usize,
    },
    /// The namespace is empty, longer than 255 bytes, or has characters
    /// CloudWatch refuses (it takes letters, digits and `. - _ / # :`).
    InvalidNamespace,
    /// Metrics are required (`#[halo::handler(metrics)]`, builtin
    /// metrics) inside Lambda, but no namespace is set.
    NamespaceMissing,
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricsError::EmptyName { what } => write!(f, "the {what} is empty"),
            MetricsError::TooLong { what, len, max } => write!(f, "the {what} has {len} bytes; at most {max} are allowed"),
            MetricsError::InvalidCharacters { what } => {
                write!(f, "the {what} must be printable ASCII (and a dimension name may not start with `:`)")
            }
            MetricsError::NotFinite { metric } => write!(f, "the value of metric `{metric}` is not a finite number"),
            MetricsError::TooManyDimensions { max } => write!(f, "a dimension set holds at most {max} dimensions"),
            MetricsError::DimensionConflict { name } => {
                write!(f, "dimension `{name}` already has another value in this metrics set")
            }
            MetricsError::KeyConflict { name } => {
                write!(f, "`{name}` is already a metric, dimension or metadata key of this metrics set")
            }
            MetricsError::DefinitionConflict { metric } => {
                write!(f, "metric `{metric}` was added before with another unit or resolution")
            }
            MetricsError::TooLarge { max } => {
                write!(f, "the dimensions and metadata of this metrics set exceed {max} bytes")
            }
            MetricsError::InvalidNamespace => f.write_str(
                "the metrics namespace must have 1 to 255 characters from letters, digits and `. - _ / # :`",
            ),
            MetricsError::NamespaceMissing => f.write_str(
                "metrics are required but no namespace is set: set HALO_METRICS_NAMESPACE (or POWERTOOLS_METRICS_NAMESPACE)",
            ),
        }
    }
}

impl std::error::Error for MetricsError {}

impl IntoError for MetricsError {
    fn into_error(self) -> Error {
        Error::internal(self).with_code("InvalidMetric")
    }
}

crate::error::from::own_error!(MetricsError);
