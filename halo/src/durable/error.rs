//! [`StoreError`]: the one error of every durable store.

use std::fmt;

use super::feature::Feature;
use crate::BoxError;

/// What went wrong with a store, as far as its caller must act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The store could not be used (network, throttling, permissions, a
    /// malformed record): nothing is known to have changed; retry later.
    Unavailable,
    /// A conditional write lost to another writer: the stored record is not
    /// the one the write expected, and was not written by this writer.
    Conflict,
    /// The record is larger than the store takes (DynamoDB's 400 KB item
    /// limit): retrying cannot help.
    TooLarge,
    /// The environment does not say which store to use (no table inside
    /// Lambda, a missing cargo feature): the operator's mistake.
    NotConfigured,
}

/// A failure of a durable store: the operation that failed (`PutItem`,
/// `GetItem`, …), its [kind](StoreErrorKind), and its cause. The store's
/// text is for logs only: converted into a halo [`Error`](crate::Error) it
/// becomes a stable code without it (503 for an unavailable store or a lost
/// conditional write, 500 `StoreNotConfigured`, and a 4xx or 500 per
/// feature for a record too large).
///
/// Its `Display` names the store and the operation (and, for a store that
/// is not configured, what to set); the cause is its
/// [`source`](std::error::Error::source), so a log line that prints the
/// chain shows every cause once.
///
/// ```
/// use halo::durable::{StoreError, StoreErrorKind};
///
/// let err = StoreError::unavailable("PutItem", "throttled");
/// assert_eq!(err.kind(), StoreErrorKind::Unavailable);
/// assert_eq!(err.to_string(), "store: PutItem failed");
/// let err: halo::Error = err.into();
/// assert_eq!((err.status(), err.code()), (503, "StoreUnavailable"));
/// ```
#[derive(Debug)]
pub struct StoreError {
    feature: Option<&'static Feature>,
    operation: &'static str,
    kind: StoreErrorKind,
    source: Option<BoxError>,
}

impl StoreError {
    /// A failure of `kind` in `operation`, caused by `source`.
    fn new(kind: StoreErrorKind, operation: &'static str, source: impl Into<BoxError>) -> StoreError {
        StoreError { feature: None, operation, kind, source: Some(source.into()) }
    }

    /// `operation` could not be done (network, throttling, permissions, a
    /// malformed record).
    pub fn unavailable(operation: &'static str, source: impl Into<BoxError>) -> StoreError {
        StoreError::new(StoreErrorKind::Unavailable, operation, source)
    }

    /// The conditional write `operation` lost to another writer.
    pub fn conflict(operation: &'static str) -> StoreError {
        StoreError { feature: None, operation, kind: StoreErrorKind::Conflict, source: None }
    }

    /// The write `operation` was refused for the record's size.
    pub fn too_large(operation: &'static str, source: impl Into<BoxError>) -> StoreError {
        StoreError::new(StoreErrorKind::TooLarge, operation, source)
    }

    /// The environment names no usable store; `source` says what to set.
    pub fn not_configured(source: impl Into<BoxError>) -> StoreError {
        StoreError::new(StoreErrorKind::NotConfigured, "configuration", source)
    }

    /// The store operation that failed (`configuration` for a store that is
    /// not configured).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// What went wrong.
    pub fn kind(&self) -> StoreErrorKind {
        self.kind
    }

    /// Whether the write was refused for the record's size (retrying it
    /// cannot help).
    #[cfg(feature = "fanout")]
    pub(crate) fn is_too_large(&self) -> bool {
        self.kind == StoreErrorKind::TooLarge
    }

    /// Whether a conditional write lost to another writer.
    pub(crate) fn is_conflict(&self) -> bool {
        self.kind == StoreErrorKind::Conflict
    }

    /// Whether the store is not configured: the operator's mistake, not an
    /// outage.
    pub(crate) fn is_configuration(&self) -> bool {
        self.kind == StoreErrorKind::NotConfigured
    }

    /// The error as the store of `feature` reports it (its name in the text
    /// and its codes), unless a feature was named before.
    pub(crate) fn of(mut self, feature: &'static Feature) -> StoreError {
        self.feature.get_or_insert(feature);
        self
    }

    fn store(&self) -> &'static str {
        self.feature.map_or("store", |feature| feature.store)
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let store = self.store();
        match self.kind {
            // What to set is the whole point: said in the text itself, as
            // an init error shows the text of an error it does not know.
            StoreErrorKind::NotConfigured => match &self.source {
                Some(why) => write!(f, "{store}: not configured: {why}"),
                None => write!(f, "{store}: not configured"),
            },
            StoreErrorKind::Conflict => write!(f, "{store}: {} lost to another writer", self.operation),
            StoreErrorKind::TooLarge => write!(f, "{store}: {} refused: the record is too large", self.operation),
            StoreErrorKind::Unavailable => write!(f, "{store}: {} failed", self.operation),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// 503 (retryable) with the feature's code (`IdempotencyStore`,
/// `SagaLogUnavailable`, `BreakerStore`, `FanoutStore`; `StoreUnavailable`
/// for a store of no feature) for an unavailable store or a lost
/// conditional write; `StoreNotConfigured` (500) for a store that is not
/// configured; the feature's code for a record too large. The store's text
/// is only logged.
impl crate::IntoError for StoreError {
    fn into_error(self) -> crate::Error {
        let feature = self.feature.unwrap_or(&super::feature::ANY);
        match self.kind {
            StoreErrorKind::NotConfigured => crate::Error::internal(self).with_code("StoreNotConfigured"),
            StoreErrorKind::TooLarge => feature.too_large.error().with_source(self),
            StoreErrorKind::Unavailable | StoreErrorKind::Conflict => {
                crate::Error::unavailable(feature.unavailable).with_code(feature.code).with_source(self)
            }
        }
    }
}

crate::error::from::own_error!(StoreError);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IntoError;

    #[test]
    fn the_cause_is_the_source_and_not_in_the_text() {
        let err = StoreError::unavailable("GetItem", "connection reset");
        assert_eq!(err.to_string(), "store: GetItem failed");
        assert_eq!(crate::error::Chain(&err).to_string(), "store: GetItem failed: connection reset");
    }

    #[test]
    fn codes_follow_the_kind() {
        let cases = [
            (StoreError::unavailable("PutItem", "secret-cause"), 503, "StoreUnavailable"),
            (StoreError::conflict("PutItem"), 503, "StoreUnavailable"),
            (StoreError::not_configured("secret-cause"), 500, "StoreNotConfigured"),
            (StoreError::too_large("PutItem", "secret-cause"), 500, "StoreRecordTooLarge"),
        ];
        for (err, status, code) in cases {
            let err = err.into_error();
            assert_eq!((err.status(), err.code()), (status, code));
            assert!(!err.message().contains("secret-cause"), "{}", err.message());
        }
    }
}
