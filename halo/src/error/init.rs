//! What an init function's error says to an operator: its whole cause
//! chain, whatever its type.

use std::any::Any;
use std::error::Error as StdError;
use std::fmt::Display;

use crate::{BoxError, Error};

/// The text logged (and reported to Lambda's `/init/error`) for an init
/// error: for a [`halo::Error`](Error) its code, message and internal cause
/// chain; for a boxed `std::error::Error` (`Box<dyn Error>`, with or without
/// `Send + Sync`) the error and each of its sources; for anything else its
/// `Display` text. (`#[halo::handler(init = ..)]` also walks the sources of
/// any `std::error::Error` type it is given.)
pub(crate) fn describe_init_error<E: Display + 'static>(err: &E) -> String {
    let any: &dyn Any = err;
    if let Some(err) = any.downcast_ref::<Error>() {
        let chain = err.source_chain();
        return if chain.is_empty() { err.to_string() } else { format!("{err}: {chain}") };
    }
    if let Some(err) = any.downcast_ref::<BoxError>() {
        return error_chain(err.as_ref());
    }
    if let Some(err) = any.downcast_ref::<Box<dyn StdError + Send + 'static>>() {
        return error_chain(err.as_ref());
    }
    if let Some(err) = any.downcast_ref::<Box<dyn StdError + 'static>>() {
        return error_chain(err.as_ref());
    }
    err.to_string()
}

/// An error and each of its sources, joined by `": "`, each cause once
/// (see [`Error::source_chain`]).
pub(crate) fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = String::new();
    crate::error::push_causes(&mut out, Some(err));
    out
}
