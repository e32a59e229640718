//! One AWS SDK configuration per container, and the clients halo shares.
//!
//! halo builds the SDK crates without their default HTTP stack and brings
//! one rustls client instead (one TLS stack, a third less to compile).

use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use tokio::sync::OnceCell;

/// The container's SDK configuration (region, credentials,
/// `AWS_ENDPOINT_URL`, … from the environment, with halo's HTTP client),
/// loaded on the first call and shared by every later one, so every client
/// of the container shares one credentials cache and one connection pool.
///
/// ```no_run
/// # async fn init() {
/// let config = halo::platform::sdk_config().await;
/// let _sqs_like = config.region();
/// # }
/// ```
pub async fn sdk_config() -> SdkConfig {
    static CONFIG: OnceCell<SdkConfig> = OnceCell::const_new();
    CONFIG.get_or_init(|| aws_loader().load()).await.clone()
}

/// The loader behind [`sdk_config`], to build a configuration of your own
/// (another region, explicit credentials, an emulator's endpoint).
pub fn aws_loader() -> aws_config::ConfigLoader {
    let https = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(https)
}

/// The container's DynamoDB client, built from [`sdk_config`] once.
#[cfg(feature = "dynamodb")]
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    static CLIENT: OnceCell<aws_sdk_dynamodb::Client> = OnceCell::const_new();
    CLIENT.get_or_init(|| async { aws_sdk_dynamodb::Client::new(&sdk_config().await) }).await.clone()
}

/// The container's SSM client, built from [`sdk_config`] once.
#[cfg(feature = "ssm")]
pub async fn ssm_client() -> aws_sdk_ssm::Client {
    static CLIENT: OnceCell<aws_sdk_ssm::Client> = OnceCell::const_new();
    CLIENT.get_or_init(|| async { aws_sdk_ssm::Client::new(&sdk_config().await) }).await.clone()
}
