//! The checks `#[halo::handler]` names the handler's types through: each
//! trait is implemented for every type that fits, and its `Checked` type
//! is what the expansion hands to [`run_with_options`](crate::run_with_options).
//! A type that does not fit is one error, on that type, in the trait's
//! words: the projection fails, so the call that uses it reports nothing
//! more (and no note points into halo's sources).

use crate::{HandlerEvent, HandlerResponse, IntoError};

/// The handler's event type.
#[diagnostic::on_unimplemented(
    message = "the handler's event type `{Self}` cannot be decoded from JSON",
    label = "this type does not implement `serde::Deserialize`",
    note = "add `#[derive(serde::Deserialize)]` to `{Self}`, or take `serde_json::Value`"
)]
pub trait EventType {
    /// The type itself.
    type Checked: HandlerEvent + Send + 'static;
}

impl<T: HandlerEvent + Send + 'static> EventType for T {
    type Checked = T;
}

/// The handler's response type.
#[diagnostic::on_unimplemented(
    message = "the handler's response type `{Self}` cannot be encoded as JSON",
    label = "this type does not implement `serde::Serialize`",
    note = "add `#[derive(serde::Serialize)]` to `{Self}`, or return `serde_json::Value`"
)]
pub trait ResponseType {
    /// The type itself.
    type Checked: HandlerResponse + Send + 'static;
}

impl<T: HandlerResponse + Send + 'static> ResponseType for T {
    type Checked = T;
}

/// The handler's error type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned as a halo handler error",
    label = "implement `halo::IntoError` for `{Self}`, or return `halo::Error` (any std error converts with `?`)"
)]
pub trait ErrorType {
    /// The type itself.
    type Checked: IntoError + Send + 'static;
}

impl<T: IntoError + Send + 'static> ErrorType for T {
    type Checked = T;
}
