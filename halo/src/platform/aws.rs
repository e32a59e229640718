//! One AWS SDK configuration per container, and the clients halo shares.
//!
//! halo builds the SDK crates without their default HTTP stack and brings
//! one rustls client instead (one TLS stack, a third less to compile).

use aws_config::{BehaviorVersion, SdkConfig};
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
    aws_config::defaults(BehaviorVersion::latest()).http_client(super::https::LazyHttps::default())
}

/// The body of a shared client's function: the service's client, built
/// from [`sdk_config`] once, with a span per request when tracing is on
/// (see [`crate::trace`]).
#[cfg(any(
    feature = "dynamodb",
    feature = "ssm",
    feature = "secrets-manager",
    feature = "appconfig",
    feature = "fanout"
))]
macro_rules! shared_client {
    ($sdk:ident) => {{
        static CLIENT: OnceCell<$sdk::Client> = OnceCell::const_new();
        CLIENT
            .get_or_init(|| async {
                let config = $sdk::config::Builder::from(&sdk_config().await);
                #[cfg(feature = "otel")]
                let config = config.interceptor(crate::trace::AwsTraceInterceptor);
                $sdk::Client::from_conf(config.build())
            })
            .await
            .clone()
    }};
}

/// The container's DynamoDB client, built from [`sdk_config`] once (with
/// a span per request when tracing is on, see [`crate::trace`]).
#[cfg(feature = "dynamodb")]
pub async fn dynamodb_client() -> aws_sdk_dynamodb::Client {
    shared_client!(aws_sdk_dynamodb)
}

/// The container's SSM client, built from [`sdk_config`] once (with a span
/// per request when tracing is on, see [`crate::trace`]).
#[cfg(feature = "ssm")]
pub async fn ssm_client() -> aws_sdk_ssm::Client {
    shared_client!(aws_sdk_ssm)
}

/// The container's Secrets Manager client, built from [`sdk_config`] once
/// (with a span per request when tracing is on, see [`crate::trace`]).
#[cfg(feature = "secrets-manager")]
pub async fn secrets_manager_client() -> aws_sdk_secretsmanager::Client {
    shared_client!(aws_sdk_secretsmanager)
}

/// The container's AppConfig data client, built from [`sdk_config`] once
/// (with a span per request when tracing is on, see [`crate::trace`]).
#[cfg(feature = "appconfig")]
pub async fn appconfig_data_client() -> aws_sdk_appconfigdata::Client {
    shared_client!(aws_sdk_appconfigdata)
}

/// The container's SQS client, built from [`sdk_config`] once (with a span
/// per request when tracing is on, see [`crate::trace`]).
#[cfg(feature = "fanout")]
pub async fn sqs_client() -> aws_sdk_sqs::Client {
    shared_client!(aws_sdk_sqs)
}
