//! Saga outcomes that are not a success, and the recorded cause of a
//! failed step or compensation.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::durable::StoreError;
use crate::{Error, ErrorKind, IntoError};

/// Why a step or a compensation failed, as recorded in the saga log: a stable
/// code (the halo [`Error`] code, matched by ASL `ErrorEquals`) and a detail
/// for operators (the public message and the internal cause).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StepError {
    /// The stable code, e.g. `BookingRejected` or `InternalError`.
    pub code: String,
    /// What happened, for logs and operators (may hold internal details).
    pub detail: String,
    /// What an end user may be told (`"card declined"`): the public message
    /// of a step's halo [`Error`] that is not internal (a 4xx, or an
    /// upstream or unavailable error). [`SagaError::RolledBack`] carries it
    /// into its 409.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_message: Option<String>,
}

impl StepError {
    /// A cause with this code and detail (nothing public).
    pub fn new(code: impl Into<String>, detail: impl Into<String>) -> StepError {
        StepError { code: code.into(), detail: detail.into(), public_message: None }
    }

    /// Records any error that converts into a halo [`Error`]: its code, its
    /// message and internal cause as the detail, and its message as the
    /// public one unless the error is internal.
    ///
    /// ```
    /// use halo::saga::StepError;
    ///
    /// let declined = StepError::from_error(halo::Error::unprocessable("card declined").with_code("CardDeclined"));
    /// assert_eq!(declined.public_message.as_deref(), Some("card declined"));
    /// let bug = StepError::from_error(halo::Error::internal("null pointer in the ledger"));
    /// assert_eq!(bug.public_message, None);
    /// ```
    pub fn from_error(err: impl IntoError) -> StepError {
        let err = err.into_error();
        let chain = err.source_chain();
        let detail = if chain.is_empty() { err.message().to_owned() } else { format!("{}: {chain}", err.message()) };
        let public_message = (err.kind() != ErrorKind::Internal).then(|| err.message().to_owned());
        StepError { code: err.code().to_owned(), detail, public_message }
    }
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl std::error::Error for StepError {}

/// A step's recorded failure as a halo error: the recorded code, an
/// internal (500) kind, the detail only logged.
impl IntoError for StepError {
    fn into_error(self) -> Error {
        let code = self.code.clone();
        Error::internal(self).with_code(code)
    }
}

crate::error::from::own_error!(StepError);

/// A compensation that still failed after its retries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FailedCompensation {
    /// The compensation's name (the step it undoes, or the ASL state).
    pub name: String,
    /// Its last error.
    pub error: StepError,
}

/// How a saga run ended when it did not produce its output.
///
/// `RolledBack`, `CompensationFailed` and `Uncompensated` are final (the
/// saga log holds the same outcome and a later run returns it again);
/// `InProgress`, `Suspended` and `Log` are retryable: run the saga again
/// with the same id.
#[derive(Debug)]
#[non_exhaustive]
pub enum SagaError {
    /// A step failed and every needed compensation succeeded.
    RolledBack {
        /// The saga id.
        saga_id: String,
        /// The step that failed.
        failed_step: String,
        /// Why it failed.
        cause: StepError,
    },
    /// A step failed and at least one compensation failed after its
    /// retries; all compensations were attempted. Needs an operator.
    CompensationFailed {
        /// The saga id.
        saga_id: String,
        /// The step that failed.
        failed_step: String,
        /// Why it failed.
        cause: StepError,
        /// The compensations that failed, in the order they ran.
        failed_compensations: Vec<FailedCompensation>,
    },
    /// A step failed with an error no ASL `Catch` handles, so no
    /// compensation ran (Step Functions semantics); the completed steps are
    /// listed. Needs an operator.
    Uncompensated {
        /// The saga id.
        saga_id: String,
        /// The step that failed.
        failed_step: String,
        /// Why it failed.
        cause: StepError,
        /// Steps that completed and were not undone.
        completed_steps: Vec<String>,
    },
    /// Another run holds the saga's lease; retry later.
    InProgress {
        /// The saga id.
        saga_id: String,
    },
    /// The remaining Lambda time was below the next action's budget: the
    /// saga checkpointed and stopped; run it again (or let
    /// [`recover`](super::recover) do it) to continue.
    Suspended {
        /// The saga id.
        saga_id: String,
        /// The step or compensation that would have run next.
        next: String,
        /// The time that was left.
        remaining: Duration,
    },
    /// The saga log failed; the saga stopped at its last recorded transition
    /// and continues from there when run again.
    Log(StoreError),
    /// The saga's definition does not fit the record in the log (another
    /// saga with the same id, or steps renamed), or a definition is invalid.
    Definition(String),
}

impl SagaError {
    /// Whether running the saga again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, SagaError::InProgress { .. } | SagaError::Suspended { .. } | SagaError::Log(_))
    }

    /// The step that failed, for the final outcomes.
    pub fn failed_step(&self) -> Option<&str> {
        match self {
            SagaError::RolledBack { failed_step, .. }
            | SagaError::CompensationFailed { failed_step, .. }
            | SagaError::Uncompensated { failed_step, .. } => Some(failed_step),
            _ => None,
        }
    }
}

impl fmt::Display for SagaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SagaError::RolledBack { saga_id, failed_step, cause } => {
                write!(f, "saga {saga_id} rolled back: step `{failed_step}` failed ({})", cause.code)
            }
            SagaError::CompensationFailed { saga_id, failed_step, cause, failed_compensations } => {
                let failed: Vec<String> =
                    failed_compensations.iter().map(|c| format!("`{}` ({})", c.name, c.error)).collect();
                write!(
                    f,
                    "saga {saga_id}: step `{failed_step}` failed ({}) and compensations failed: {}",
                    cause.code,
                    failed.join(", ")
                )
            }
            SagaError::Uncompensated { saga_id, failed_step, cause, completed_steps } => write!(
                f,
                "saga {saga_id}: step `{failed_step}` failed ({}) with no matching Catch; not compensated: {}",
                cause.code,
                completed_steps.join(", ")
            ),
            SagaError::InProgress { saga_id } => write!(f, "saga {saga_id} is being run by another invocation"),
            SagaError::Suspended { saga_id, next, remaining } => {
                write!(f, "saga {saga_id} suspended before `{next}` with {} ms left", remaining.as_millis())
            }
            SagaError::Log(err) => err.fmt(f),
            SagaError::Definition(msg) => write!(f, "saga definition error: {msg}"),
        }
    }
}

impl std::error::Error for SagaError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            SagaError::RolledBack { cause, .. } | SagaError::Uncompensated { cause, .. } => Some(cause),
            // What an operator must fix is the compensation: its errors are
            // in the text; the step's code is there too.
            SagaError::CompensationFailed { .. } => None,
            SagaError::Log(err) => Some(err),
            _ => None,
        }
    }
}

impl From<StoreError> for SagaError {
    fn from(err: StoreError) -> SagaError {
        SagaError::Log(err.of(&super::STORE))
    }
}

/// `RolledBack` is a 409 `SagaRolledBack` naming the failed step and, when
/// the step failed with a public message, that message;
/// `CompensationFailed` and `Uncompensated` are 500s (details logged only);
/// `InProgress` is a 409 `SagaInProgress` and `Suspended` a 503
/// `SagaSuspended`, both retryable; a log failure is a 503
/// `SagaLogUnavailable`, except a log that is not configured: a 500
/// `StoreNotConfigured` (details logged only).
///
/// ```
/// use halo::IntoError;
/// use halo::saga::{SagaError, StepError};
///
/// let err = SagaError::RolledBack {
///     saga_id: "t-1".into(),
///     failed_step: "book_flight".into(),
///     cause: StepError::new("NoSeats", "flight full"),
/// };
/// let err = err.into_error();
/// assert_eq!((err.status(), err.code()), (409, "SagaRolledBack"));
/// assert!(err.message().contains("book_flight"));
/// ```
impl IntoError for SagaError {
    fn into_error(self) -> Error {
        let (kind, code, message): (ErrorKind, &'static str, String) = match &self {
            SagaError::RolledBack { failed_step, cause, .. } => {
                let reason = cause.public_message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
                let message =
                    format!("the operation was cancelled: step `{failed_step}` failed{reason} and was rolled back");
                (ErrorKind::Conflict, "SagaRolledBack", message)
            }
            SagaError::CompensationFailed { .. } | SagaError::Uncompensated { .. } => {
                (ErrorKind::Internal, "SagaCompensationFailed", String::new())
            }
            SagaError::InProgress { .. } => {
                (ErrorKind::Conflict, "SagaInProgress", "the operation is already in progress; retry later".into())
            }
            SagaError::Suspended { .. } => {
                (ErrorKind::Unavailable, "SagaSuspended", "the operation was paused; retry to continue".into())
            }
            SagaError::Log(err) if err.is_configuration() => (ErrorKind::Internal, "StoreNotConfigured", String::new()),
            SagaError::Log(_) => {
                (ErrorKind::Unavailable, "SagaLogUnavailable", "the saga log is unavailable; retry later".into())
            }
            SagaError::Definition(_) => (ErrorKind::Internal, "SagaDefinitionError", String::new()),
        };
        let base = if kind == ErrorKind::Internal {
            Error::internal(self)
        } else {
            Error::new(kind, message).with_source(self)
        };
        base.with_code(code)
    }
}

crate::error::from::own_error!(SagaError);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollback_carries_the_steps_public_reason_never_its_detail() {
        let declined = Error::unprocessable("card declined").with_code("CardDeclined").with_source("issuer said 05");
        let rolled_back = |cause| SagaError::RolledBack { saga_id: "t-1".into(), failed_step: "charge".into(), cause };
        let err = rolled_back(StepError::from_error(declined)).into_error();
        assert_eq!(
            err.message(),
            "the operation was cancelled: step `charge` failed (card declined) and was rolled back"
        );
        let internal = rolled_back(StepError::from_error(Error::internal("issuer said 05"))).into_error();
        assert_eq!(internal.message(), "the operation was cancelled: step `charge` failed and was rolled back");
        let recorded = rolled_back(StepError::new("CardDeclined", "issuer said 05")).into_error();
        assert!(!recorded.message().contains("issuer"), "{}", recorded.message());
    }

    #[test]
    fn a_failed_compensation_is_logged_with_its_own_error() {
        let err = SagaError::CompensationFailed {
            saga_id: "t-1".into(),
            failed_step: "book_rental".into(),
            cause: StepError::new("UpstreamError", "POST /rentals: last status 500"),
            failed_compensations: vec![FailedCompensation {
                name: "book_flight".into(),
                error: StepError::new("UpstreamError", "the flights service did not cancel the booking"),
            }],
        }
        .into_error();
        assert_eq!((err.status(), err.code()), (500, "SagaCompensationFailed"));
        let chain = err.source_chain();
        assert!(
            chain.contains("`book_flight` (UpstreamError: the flights service did not cancel the booking)"),
            "{chain}"
        );
        assert!(!chain.contains("last status 500"), "the step's detail is not taken for the cause: {chain}");
    }

    #[test]
    fn a_log_that_is_not_configured_is_the_operators_500_said_once() {
        let missing =
            StoreError::not_configured("no saga table is configured: set HALO_SAGA_TABLE").of(&crate::saga::STORE);
        let err = SagaError::Log(missing).into_error();
        assert_eq!((err.status(), err.code(), err.message()), (500, "StoreNotConfigured", "internal error"));
        assert_eq!(err.source_chain(), "saga log: not configured: no saga table is configured: set HALO_SAGA_TABLE");
        assert!(!err.source_chain().contains("retry"), "{}", err.source_chain());
        let outage = SagaError::Log(StoreError::unavailable("PutItem", "throttled")).into_error();
        assert_eq!((outage.status(), outage.code()), (503, "SagaLogUnavailable"));
    }
}
