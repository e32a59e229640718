#![doc = include_str!("../../docs/durable-execution.md")]

mod execution;
mod handler;
mod run;

pub use execution::Execution;
pub use handler::{ExecutionFuture, handler};
pub use run::{run, run_with_init, run_with_options};

/// The AWS durable execution SDK halo runs on (its `DurableContext`,
/// operations, errors and its `test_util::LocalRunner`), re-exported so a
/// crate using halo's version needs no dependency of its own.
pub use aws_durable_execution_sdk as sdk;
