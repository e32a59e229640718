//! `?` on any error in code returning a halo [`Error`]: halo's own error
//! types keep their documented kind, status and code (through their
//! [`IntoError`](crate::IntoError)), every other `std::error::Error` becomes an `Internal`
//! error (500) whose text is only logged.
//!
//! The error type names none of the features whose errors it converts:
//! each feature registers its own with `own_error!`, next to its
//! [`IntoError`](crate::IntoError) implementation.

use std::any::Any;

use crate::Error;

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
        let mut slot = Some(err);
        let any: &mut dyn Any = &mut slot;
        for own in inventory::iter::<OwnError> {
            if let Some(converted) = (own.convert)(any) {
                return converted;
            }
        }
        match slot {
            Some(err) => Error::internal(err),
            None => Error::internal("an error was converted twice"),
        }
    }
}

/// One of halo's own error types, whose `?` conversion keeps its
/// documented kind, status and code (registered with `own_error!`).
pub(crate) struct OwnError {
    /// The conversion of the error in an `Option<E>` seen as `dyn Any`,
    /// when `E` is this type (taking it out of the option).
    pub(crate) convert: fn(&mut dyn Any) -> Option<Error>,
}

inventory::collect!(OwnError);

/// Registers `$own` (an error type of halo's with an [`IntoError`](crate::IntoError)) so that
/// `?` converts it by its `IntoError`, not into an `Internal` error.
macro_rules! own_error {
    ($own:ty) => {
        inventory::submit! {
            $crate::error::from::OwnError {
                convert: |any| any.downcast_mut::<Option<$own>>().and_then(Option::take).map($crate::IntoError::into_error),
            }
        }
    };
}
pub(crate) use own_error;
