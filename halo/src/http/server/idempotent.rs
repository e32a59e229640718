//! `#[idempotent]` on route handlers: the `Idempotency-Key` header and the
//! JSON body as one payload, and a created-resource response that can be
//! stored and replayed.

use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The header of the IETF draft "The Idempotency-Key HTTP Header Field".
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// A JSON body with the request's `Idempotency-Key` header: an extractor
/// whose value serializes as `{"key": "<header>", "body": <body>}`, so
/// `#[idempotent(payload = request, key = ["/key"], validate = ["/body/title"])]`
/// keys a route on the header and checks that a retry sends the same body.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use axum::extract::FromRequest;
/// use halo::http::IdempotentJson;
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct NewTodo { title: String }
///
/// let request = axum::http::Request::post("/todos")
///     .header("content-type", "application/json")
///     .header("idempotency-key", "k-1")
///     .body(axum::body::Body::from(r#"{"title":"buy milk"}"#))
///     .unwrap();
/// let extracted = IdempotentJson::<NewTodo>::from_request(request, &()).await.ok().unwrap();
/// assert_eq!(serde_json::to_value(&extracted).unwrap(), serde_json::json!({ "key": "k-1", "body": { "title": "buy milk" } }));
/// # });
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdempotentJson<T> {
    /// The `Idempotency-Key` header, if sent.
    pub key: Option<String>,
    /// The JSON body.
    pub body: T,
}

impl<T, S> FromRequest<S> for IdempotentJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        let key = request.headers().get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let axum::Json(body) =
            axum::Json::<T>::from_request(request, state).await.map_err(IntoResponse::into_response)?;
        Ok(IdempotentJson { key, body })
    }
}

/// `201 Created` with a JSON body; serializable, so an idempotent route
/// can store it and replay it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Created<T>(pub T);

impl<T: Serialize> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        (http::StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}
