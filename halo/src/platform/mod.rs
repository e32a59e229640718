//! The platform layer: the answers every feature of halo shares, each in
//! one place.
//!
//! - **Am I in Lambda?** [`in_lambda`]: `AWS_LAMBDA_RUNTIME_API` is set
//!   (inside Lambda, or under a Runtime API emulator).
//! - **Which store?** Not here: the durable-state kernel,
//!   [`crate::durable`], answers it for every feature with a store
//!   (idempotency, the saga log, shared circuit breakers and fan-out).
//! - **Which AWS client?** [`sdk_config`] (feature `aws`): one `SdkConfig`
//!   per container, loaded on first use and shared by every client halo
//!   builds; [`dynamodb_client`], [`ssm_client`], `secrets_manager_client`,
//!   `appconfig_data_client` and [`sqs_client`] are the
//!   shared clients.
//! - **How many invocations at once?** [`max_concurrency`]: 1 on classic
//!   Lambda, `AWS_LAMBDA_MAX_CONCURRENCY` on Lambda Managed Instances; it
//!   picks the tokio runtime ([`block_on`]).
//! - **Which roots of trust?** The system's root certificates, read once
//!   per process for both TLS clients (the HTTP client's and the AWS
//!   SDK's).
//! - **What time is it?** [`Clock`]: wall-clock milliseconds, [`SystemClock`]
//!   in production, your own in tests.
//!
//! The kind of event an invocation received is decided once per
//! invocation, when it arrives ([`crate::Invocation`]).

#[cfg(feature = "aws")]
mod aws;
mod clock;
mod env;
pub(crate) mod function;
#[cfg(feature = "aws")]
mod https;
#[cfg(any(feature = "http-client", feature = "aws"))]
mod tls;
mod tokio_runtime;

#[cfg(feature = "appconfig")]
pub use aws::appconfig_data_client;
#[cfg(feature = "dynamodb")]
pub use aws::dynamodb_client;
#[cfg(feature = "secrets-manager")]
pub use aws::secrets_manager_client;
#[cfg(feature = "fanout")]
pub use aws::sqs_client;
#[cfg(feature = "ssm")]
pub use aws::ssm_client;
#[cfg(feature = "aws")]
pub use aws::{aws_loader, sdk_config};
pub(crate) use clock::system_clock;
pub use clock::{Clock, ManualClock, SystemClock};
pub(crate) use env::{RUNTIME_API_ENV, non_empty_var};
pub use env::{in_lambda, max_concurrency};
#[cfg(feature = "http-client")]
pub(crate) use tls::native_roots;
pub use tokio_runtime::block_on;
