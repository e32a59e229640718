//! The traits `#[halo::idempotent]` checks a function's types with. Each is
//! implemented for every type that fits, so you never implement one; a
//! type that does not fit gets one error, on that type, saying what to
//! write.

use std::future::Future;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Idempotency, IdempotencyStore};
use crate::{Ctx, Error};

/// A payload `#[halo::idempotent]` can build a key from: any type that
/// encodes to JSON (`serde::Serialize`).
#[diagnostic::on_unimplemented(
    message = "`#[halo::idempotent]` cannot build a key from the payload type `{Self}`",
    label = "this type does not implement `serde::Serialize`",
    note = "add `#[derive(serde::Serialize)]` to `{Self}`, or name another parameter with `payload = ...`"
)]
pub trait IdempotentPayload {
    /// The payload as JSON, taken before the function's body moves it.
    #[doc(hidden)]
    fn idempotency_payload(&self) -> Result<Value, Error>;
}

impl<T: Serialize + ?Sized> IdempotentPayload for T {
    fn idempotency_payload(&self) -> Result<Value, Error> {
        super::to_value(self)
    }
}

/// A response `#[halo::idempotent]` can store and replay: any type that
/// encodes to and decodes from JSON (`serde::Serialize` and
/// `serde::de::DeserializeOwned`).
#[diagnostic::on_unimplemented(
    message = "`#[halo::idempotent]` stores and replays the response type `{Self}`, which must encode to and decode from JSON",
    label = "this type does not implement both `serde::Serialize` and `serde::Deserialize`",
    note = "add `#[derive(serde::Serialize, serde::Deserialize)]` to `{Self}` (a borrowed field such as `&str` becomes `String`)"
)]
pub trait IdempotentResponse: Sized {
    /// The expansion's call. The body's own error comes back as
    /// `Err(Ok(e))`, idempotency's (store outage, mismatch) as
    /// `Err(Err(error))`.
    #[doc(hidden)]
    fn run_idempotent<E, Fut>(
        idempotency: &Idempotency,
        store: Option<&dyn IdempotencyStore>,
        payload: Result<Value, Error>,
        ctx: Option<&Ctx>,
        body: Fut,
    ) -> impl Future<Output = Result<Self, Result<E, Error>>>
    where
        Fut: Future<Output = Result<Self, E>>;
}

impl<R: Serialize + DeserializeOwned> IdempotentResponse for R {
    async fn run_idempotent<E, Fut>(
        idempotency: &Idempotency,
        store: Option<&dyn IdempotencyStore>,
        payload: Result<Value, Error>,
        ctx: Option<&Ctx>,
        body: Fut,
    ) -> Result<R, Result<E, Error>>
    where
        Fut: Future<Output = Result<R, E>>,
    {
        let body = async move { body.await.map_err(Failure::Body) };
        idempotency.run_on(store, payload, ctx, body).await.map_err(|failure| match failure {
            Failure::Body(err) => Ok(err),
            Failure::Idempotency(err) => Err(err),
        })
    }
}

/// An error type `#[halo::idempotent]` can report its own failures in: any
/// type that converts from [`halo::Error`](Error).
#[diagnostic::on_unimplemented(
    message = "`#[halo::idempotent]` reports its own failures (a store outage, a payload mismatch) as a `halo::Error`, which the error type `{Self}` cannot hold",
    label = "this type does not implement `From<halo::Error>`",
    note = "return `halo::Error`, or implement `From<halo::Error>` for `{Self}`"
)]
pub trait IdempotentError: Sized {
    /// Converts idempotency's own error.
    #[doc(hidden)]
    fn from_idempotency(error: Error) -> Self;
}

impl<E: From<Error>> IdempotentError for E {
    fn from_idempotency(error: Error) -> E {
        E::from(error)
    }
}

/// The body's error or idempotency's, kept apart until the expansion
/// converts the latter with [`IdempotentError`].
enum Failure<E> {
    Body(E),
    Idempotency(Error),
}

impl<E> From<Error> for Failure<E> {
    fn from(error: Error) -> Failure<E> {
        Failure::Idempotency(error)
    }
}
