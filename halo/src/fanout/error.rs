//! [`FanoutError`]: why starting, reading or sweeping jobs failed.

use std::fmt;

use super::dispatch::DispatchError;
use crate::durable::StoreError;
use crate::{Error, IntoError};

/// Why a fan-out operation failed. Each converts into a halo [`Error`]
/// with a stable code (through `?` too): `InvalidJob` (400), `JobConflict`
/// (409), `FanoutStore` and `FanoutDispatch` (503, retryable),
/// `StoreNotConfigured` (500).
#[derive(Debug)]
#[non_exhaustive]
pub enum FanoutError {
    /// The job cannot be started as given (no parts, too many, an id or a
    /// part the queue cannot carry). The text is halo's, safe to show.
    InvalidJob(String),
    /// A job with this id exists with other parts or another context.
    Conflict {
        /// The job id.
        job_id: String,
    },
    /// The store failed.
    Store(StoreError),
    /// Parts could not be sent; starting the job again sends them.
    Dispatch(DispatchError),
    /// The environment does not say where jobs or parts go (inside
    /// Lambda); the message names the variable.
    NotConfigured {
        /// The variable to set.
        variable: &'static str,
        /// What is wrong and what to do.
        message: String,
    },
}

impl fmt::Display for FanoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FanoutError::InvalidJob(why) => write!(f, "invalid job: {why}"),
            FanoutError::Conflict { job_id } => write!(f, "job `{job_id}` exists with other parts or context"),
            FanoutError::Store(err) => err.fmt(f),
            FanoutError::Dispatch(err) => err.fmt(f),
            FanoutError::NotConfigured { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for FanoutError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            FanoutError::Store(err) => Some(err),
            FanoutError::Dispatch(err) => Some(err),
            _ => None,
        }
    }
}

impl From<StoreError> for FanoutError {
    fn from(err: StoreError) -> Self {
        FanoutError::Store(err.of(&super::env::STORE))
    }
}

impl From<DispatchError> for FanoutError {
    fn from(err: DispatchError) -> Self {
        FanoutError::Dispatch(err)
    }
}

/// ```
/// use halo::fanout::FanoutError;
///
/// let err: halo::Error = FanoutError::Conflict { job_id: "job-1".into() }.into();
/// assert_eq!((err.status(), err.code()), (409, "JobConflict"));
/// ```
impl IntoError for FanoutError {
    fn into_error(self) -> Error {
        match self {
            FanoutError::InvalidJob(why) => Error::bad_request(why).with_code("InvalidJob"),
            FanoutError::Conflict { .. } => {
                Error::conflict("a job with this id exists with other parts").with_code("JobConflict").with_source(self)
            }
            FanoutError::Store(err) => err.of(&super::env::STORE).into_error(),
            FanoutError::Dispatch(err) => err.into_error(),
            FanoutError::NotConfigured { .. } => Error::internal(self).with_code("StoreNotConfigured"),
        }
    }
}

crate::error::from::own_error!(FanoutError);
