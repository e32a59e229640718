//! `?` on any error in code returning a halo [`Error`]: halo's own error
//! types keep their documented kind, status and code (through their
//! [`IntoError`]), every other `std::error::Error` becomes an `Internal`
//! error (500) whose text is only logged.
//!
//! This lives apart from [`crate::error`] so that the error type does not
//! depend on the features whose errors it converts.

use std::any::Any;

use crate::{Error, IntoError};

/// Converts with `?`.
///
/// ```
/// use halo::Error;
///
/// // A foreign error: internal, its text only in the logged cause.
/// let err: Error = std::io::Error::other("disk /dev/sda1 is full").into();
/// assert_eq!((err.status(), err.message()), (500, "internal error"));
///
/// // One of halo's own errors keeps its meaning.
/// let rolled_back = halo::saga::SagaError::RolledBack {
///     saga_id: "t-1".into(),
///     failed_step: "book_flight".into(),
///     cause: halo::saga::StepError::new("NoSeats", "flight full"),
/// };
/// let err: Error = rolled_back.into();
/// assert_eq!((err.status(), err.code()), (409, "SagaRolledBack"));
/// ```
impl<E> From<E> for Error
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from(err: E) -> Error {
        // `E` is known at each call site, so every `TypeId` test below is
        // decided at compile time.
        let mut slot = Some(err);
        let any: &mut dyn Any = &mut slot;
        own_error!(
            any,
            crate::saga::SagaError,
            crate::saga::StepError,
            crate::saga::asl::AslError,
            crate::durable::StoreError,
            crate::params::ParamsError,
            crate::durable::StoreConfigError,
            crate::metrics::MetricsError,
        );
        #[cfg(feature = "fanout")]
        own_error!(any, crate::fanout::FanoutError, crate::fanout::DispatchError);
        match slot {
            Some(err) => Error::internal(err),
            None => Error::internal("an error was converted twice"),
        }
    }
}

/// Returns the [`IntoError`] conversion of the value in `$any` (an
/// `Option<E>` seen as `dyn Any`) when `E` is one of `$own`.
macro_rules! own_error {
    ($any:ident, $($own:ty),+ $(,)?) => {
        $(
            if let Some(own) = $any.downcast_mut::<Option<$own>>().and_then(Option::take) {
                return own.into_error();
            }
        )+
    };
}
use own_error;
