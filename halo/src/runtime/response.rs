//! A JSON response in the proxy shape HTTP events take back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// An HTTP response with a JSON body, in the shape API Gateway (REST and
/// HTTP APIs) and Function URLs take from a handler: `statusCode`,
/// `headers` (with `content-type: application/json`), the body as text.
/// halo's stack adds `x-correlation-id` to it, as to any HTTP answer. It
/// deserializes too, so an idempotent handler can store and replay it.
///
/// ```
/// #[derive(serde::Serialize)]
/// struct Greeting { message: String }
///
/// async fn handler(_event: serde_json::Value, _ctx: &halo::Ctx) -> Result<halo::JsonResponse, halo::Error> {
///     halo::JsonResponse::new(200, &Greeting { message: "hello".into() })
/// }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let response = handler(serde_json::json!({}), &halo::Ctx::for_test()).await.unwrap();
/// assert_eq!((response.status(), response.body()), (200, r#"{"message":"hello"}"#));
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonResponse {
    status_code: u16,
    headers: BTreeMap<String, String>,
    body: String,
    is_base64_encoded: bool,
}

impl JsonResponse {
    /// A response with `status` and `body` serialized as JSON.
    ///
    /// # Errors
    ///
    /// An `Internal` error when `body` does not serialize (a map with
    /// non-string keys, a failing `Serialize` implementation).
    pub fn new<T: Serialize + ?Sized>(status: u16, body: &T) -> Result<JsonResponse, Error> {
        let body = serde_json::to_string(body)?;
        let headers = BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())]);
        Ok(JsonResponse { status_code: status, headers, body, is_base64_encoded: false })
    }

    /// Adds (or replaces) a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> JsonResponse {
        self.headers.insert(name.into().to_ascii_lowercase(), value.into());
        self
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status_code
    }

    /// The body's JSON text.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// A header's value, by name in any case.
    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }
}
