#![doc = include_str!("../../docs/sagas.md")]
#![cfg_attr(feature = "durable-execution", doc = include_str!("../../docs/sagas-on-durable-execution.md"))]
// `SagaError` carries the recorded causes by value (what the log holds),
// so it is larger than clippy's default; sagas run a few times per
// invocation, never in a hot loop.
#![allow(clippy::result_large_err)]

pub mod asl;
mod backend;
mod config;
mod definition;
#[cfg(feature = "durable-execution")]
mod durable;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod error;
mod executor;
pub mod log;
mod memory;
mod pause;
mod recover;
#[allow(clippy::module_inception)]
mod saga;
mod step;

pub use backend::SagaBackend;
#[cfg(feature = "durable-execution")]
pub(crate) use backend::durable_sagas_use_log;
pub(crate) use config::STORE;
pub use config::{log_from_env, set_default_log};
#[cfg(feature = "dynamodb")]
pub use dynamodb::{DynamoDbSagaLog, table_spec};
pub use error::{FailedCompensation, SagaError, StepError};
use log::SagaLog;
pub use memory::MemorySagaLog;
pub use recover::{RecoverOptions, RecoverReport, Recoverable, recover};
pub use saga::Saga;
pub use step::{Step, StepCtx, StepOptions};
