//! Shared AWS SDK configuration.
//!
//! halo builds the SDK crates without their default HTTP stack and brings
//! one rustls client instead (one TLS stack, a third less to compile).
//! [`sdk_config`] is what init code should call to build clients.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};

/// Loads the SDK configuration from the environment (region, credentials,
/// `AWS_ENDPOINT_URL`, …) with halo's HTTP client. Call it once, in init.
///
/// ```no_run
/// # async fn init() {
/// let config = halo::aws::sdk_config().await;
/// let _dynamodb = aws_sdk_dynamodb::Client::new(&config);
/// # }
/// ```
pub async fn sdk_config() -> SdkConfig {
    loader().load().await
}

/// The loader behind [`sdk_config`], to adjust before loading.
pub fn loader() -> aws_config::ConfigLoader {
    let https = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(https)
}
