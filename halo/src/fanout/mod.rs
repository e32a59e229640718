#![doc = include_str!("../../docs/fanout.md")]

mod dead_letter;
pub mod dispatch;
mod dynamodb;
mod env;
mod error;
mod fan_in;
mod job;
mod jobs;
mod local;
mod memory;
mod memory_queue;
mod sqs;
mod start;
mod status;
pub mod store;
mod sweeper;
mod worker;

pub use dynamodb::DynamoDbFanoutStore;
#[cfg(feature = "test-support")]
pub(crate) use dynamodb::table_spec;
pub use error::FanoutError;
pub use fan_in::{FanIn, FanInFn};
pub use job::{JobOutcome, JobPolicy, JobStatus, PartFailure};
pub use jobs::Fanout;
pub use local::LocalRun;
pub use memory::MemoryFanoutStore;
pub use memory_queue::MemoryDispatcher;
pub use sqs::SqsDispatcher;
pub use start::{NewJob, Started};
pub use status::{FailedPart, JobView};
pub use sweeper::{SweepReport, SweptJob};
pub use worker::{Part, PartFn, PartRecording};
