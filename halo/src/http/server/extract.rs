//! halo types in axum: [`Error`] as a response, [`Ctx`] as an extractor.

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use http::request::Parts;

use crate::event::names;
use crate::{Ctx, Error};

/// The error body `{"error": {"code", "message", "trace_id"}}` with the
/// kind's status, the correlation id as trace id and in the
/// `x-correlation-id` header, and `Retry-After` when set. The internal
/// cause is logged, never returned.
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let trace_id =
            Ctx::with_current(|ctx| ctx.and_then(|c| c.correlation_id().map(str::to_owned))).unwrap_or_default();
        crate::runtime::log_error(&self);
        let status = http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(self.body(&trace_id))).into_response();
        let headers = response.headers_mut();
        if let Ok(value) = http::HeaderValue::from_str(&trace_id) {
            headers.insert(names::CORRELATION_ID, value);
        }
        if let Some(after) = self.retry_after() {
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        }
        response
    }
}

/// The invocation's (or, in serve mode, the request's) context.
impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Ctx, Error> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .or_else(Ctx::current)
            .ok_or_else(|| Error::internal("no halo context: serve the router with halo::http::run"))
    }
}
