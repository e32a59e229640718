//! What the macros' expansions call: `halo::__private`, the one contract
//! between `halo-macros` and this crate. Not a public API.

use std::fmt::Display;
use std::future::Future;

mod breaker;
mod handler_types;
mod idempotency;
mod saga;

pub use crate::platform::block_on;
pub use crate::runtime::run::Stateless;
pub use crate::runtime::store_use::StoreUse;
pub use breaker::LazyBreaker;
pub use handler_types::{ErrorType, EventType, ResponseType};
pub use idempotency::{IDEMPOTENCY_STORE, LazyLock, dyn_store, millis};
pub use inventory;
pub use saga::{SAGA_LOG, compensation_result};
pub use tokio;

/// The init of a handler without state.
pub async fn no_init() -> Result<(), String> {
    Ok(())
}

/// An init error, described by the most telling of the traits it
/// implements: `(&&Describe(&err)).describe()` walks the sources of a
/// `std::error::Error`, and uses `describe_init_error`
/// for anything else that is `Display` (a `halo::Error`, a boxed error, a
/// string).
#[derive(Debug)]
pub struct Describe<'a, T>(pub &'a T);

/// The `std::error::Error` case of [`Describe`].
pub trait DescribeError {
    /// The error and its sources.
    fn describe(self) -> String;
}

impl<T: std::error::Error + 'static> DescribeError for &&Describe<'_, T> {
    fn describe(self) -> String {
        crate::error::init::error_chain(self.0)
    }
}

/// The `Display` case of [`Describe`].
pub trait DescribeDisplay {
    /// The error's text (with its cause chain when halo knows how).
    fn describe(self) -> String;
}

impl<T: Display + 'static> DescribeDisplay for &Describe<'_, T> {
    fn describe(self) -> String {
        crate::error::init::describe_init_error(self.0)
    }
}

/// A handler's future, which must be `Send`: halo serves invocations
/// from a multi-thread runtime when Lambda Managed Instances send several
/// at once, so a handler must not hold an `Rc`, a `RefCell` borrow or a
/// `std::sync::MutexGuard` across an `.await`. The macro calls this spanned
/// on the handler's name, so a future that is not `Send` is one error
/// there, saying which value is held across which `.await`.
pub fn handler_future_must_be_send<F: Future + Send>(future: F) -> F {
    future
}
