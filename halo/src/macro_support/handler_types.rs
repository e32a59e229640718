//! The checks `#[halo::handler]` names the handler's types through: each
//! trait is implemented for every type that fits, and its `Checked` type
//! is what the expansion hands to [`run_with_options`](crate::run_with_options).
//! A type that does not fit is one error, on that type, in the words of the
//! public trait it misses ([`HandlerEvent`], [`HandlerResponse`],
//! [`IntoError`]); the call that uses the projection reports nothing more,
//! so no note points into halo's sources.

use crate::{HandlerEvent, HandlerResponse, IntoError};

macro_rules! checked_type {
    ($(#[$doc:meta] $name:ident: $public:ident;)+) => {$(
        #[$doc]
        pub trait $name {
            /// The type itself.
            type Checked: $public + Send + 'static;
        }

        impl<T: $public + Send + 'static> $name for T {
            type Checked = T;
        }
    )+};
}

checked_type! {
    /// The handler's event type.
    EventType: HandlerEvent;
    /// The handler's response type.
    ResponseType: HandlerResponse;
    /// The handler's error type.
    ErrorType: IntoError;
}
