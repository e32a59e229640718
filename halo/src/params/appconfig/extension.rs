//! Reading profiles through the AppConfig Lambda extension's local HTTP
//! endpoint (`http://localhost:2772/applications/{app}/environments/{env}/configurations/{profile}`):
//! the extension keeps the session and polls in the background.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::rt::TokioIo;

use super::content;
use crate::params::error::{ParamsError, ParamsErrorKind};
use crate::params::provider::Parameter;

/// The extension's port unless `AWS_APPCONFIG_EXTENSION_HTTP_PORT` says.
pub(super) const DEFAULT_PORT: u16 = 2772;

/// How long one request to the extension may take (it may call AppConfig
/// on a cache miss).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest answer read: twice AppConfig's 2 MB limit.
const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The extension on loopback.
#[derive(Debug, Clone)]
pub(super) struct Extension {
    pub(super) port: u16,
}

impl Extension {
    /// The profile's content as the extension serves it.
    pub(super) async fn read(
        &self,
        application: &str,
        environment: &str,
        profile: &str,
    ) -> Result<Parameter, ParamsError> {
        let path = format!(
            "/applications/{}/environments/{}/configurations/{}",
            encode(application),
            encode(environment),
            encode(profile)
        );
        let unreachable = |e: &dyn std::fmt::Display| {
            ParamsError::new(ParamsErrorKind::Unavailable, "cannot reach the AppConfig extension")
                .at(profile)
                .with_source(e.to_string())
        };
        let exchange = async {
            let stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.map_err(|e| unreachable(&e))?;
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| unreachable(&e))?;
            tokio::spawn(connection);
            let request = http::Request::get(&path)
                .header(http::header::HOST, format!("localhost:{}", self.port))
                .body(Empty::<Bytes>::new())
                .map_err(|e| unreachable(&e))?;
            let response = sender.send_request(request).await.map_err(|e| unreachable(&e))?;
            let status = response.status();
            let content_type =
                response.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let version = response
                .headers()
                .get("configuration-version")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<i64>().ok());
            let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
                .collect()
                .await
                .map_err(|e| unreachable(&*e))?
                .to_bytes();
            Ok::<_, ParamsError>((status, content_type, version, body))
        };
        let (status, content_type, version, body) = tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .map_err(|_| unreachable(&"no answer within 10 s"))??;
        if !status.is_success() {
            // The body may echo the request: it is not shown.
            let kind = match status.as_u16() {
                404 => ParamsErrorKind::NotFound,
                400..=499 => ParamsErrorKind::Config,
                _ => ParamsErrorKind::Unavailable,
            };
            return Err(ParamsError::new(kind, format!("the AppConfig extension answered {status}")).at(profile));
        }
        let parameter = content::parameter(profile, &body, content_type.as_deref())?;
        Ok(match version {
            Some(version) => parameter.with_version(version),
            None => parameter,
        })
    }
}

/// Percent-encodes a path segment (AppConfig names are letters, digits
/// and `-_.`; anything else is encoded).
fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn segments_are_encoded() {
        assert_eq!(super::encode("shop-prod_1.x"), "shop-prod_1.x");
        assert_eq!(super::encode("a b/c"), "a%20b%2Fc");
    }
}
