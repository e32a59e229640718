//! The platform layer: the answers every feature of halo shares, each in
//! one place.
//!
//! - **Am I in Lambda?** [`in_lambda`]: `AWS_LAMBDA_RUNTIME_API` is set
//!   (inside Lambda, or under a Runtime API emulator).
//! - **Which store?** [`choose_store`]: one rule for every feature backed by
//!   a DynamoDB table (idempotency, saga log, circuit breaker state):
//!   DynamoDB when its table variable is set, memory outside Lambda, and
//!   inside Lambda without the variable a clear init error naming it. A
//!   feature that can work per container says so with
//!   [`Fallback::PerContainer`] (the circuit breaker does, and logs it).
//! - **Which AWS client?** [`sdk_config`] (feature `aws`): one `SdkConfig`
//!   per container, loaded on first use and shared by every client halo
//!   builds; [`dynamodb_client`] and [`ssm_client`] are the shared clients.
//! - **What time is it?** [`Clock`]: wall-clock milliseconds, [`SystemClock`]
//!   in production, your own in tests.
//!
//! The kind of event an invocation received is decided once per
//! invocation, when it arrives ([`crate::Invocation`]).

#[cfg(feature = "aws")]
mod aws;
mod clock;
mod env;
mod store;

#[cfg(feature = "dynamodb")]
pub use aws::dynamodb_client;
#[cfg(feature = "ssm")]
pub use aws::ssm_client;
#[cfg(feature = "aws")]
pub use aws::{aws_loader, sdk_config};
pub use clock::{Clock, ManualClock, SystemClock, system_clock};
pub use env::{RUNTIME_API_ENV, in_lambda, non_empty_var};
pub use store::{Fallback, StoreChoice, StoreConfigError, choose_store};
