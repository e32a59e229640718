//! Fan-out / fan-in: split a job into parts, process them on many workers
//! through SQS, record each part once in DynamoDB, and run the fan-in
//! exactly once when the last part is in.
//!
//! ```text
//!             start                     worker (SQS consumer)              fan-in
//! job ──► 1 conditional PutItem ──► part ─► your fn ─► 1 conditional ──► the write that
//!         SendMessageBatch × N/10         (any worker)   UpdateItem        completes the job
//!                                                       (result + count)  claims it: your fn
//!                          dead-letter queue ─► handler: part failed ──► collect / fail fast
//!                          scheduled sweeper ─► deadline passed, or fan-in stuck ──► fan-in
//! ```
//!
//! - **Start** ([`Fanout::start`]): one job item (id, parts, deadline,
//!   policy, counters) created once, and every part sent as an SQS message
//!   (ten per `SendMessageBatch`) with the job id and part index, the
//!   correlation id and the sampling decision as message attributes.
//!   Starting the same id again sends nothing, unless the first start was
//!   interrupted before sending everything.
//! - **Worker** ([`Fanout::process`], or [`Part`] and
//!   [`Fanout::record_result`] inside your own [`Sqs::process`](crate::batch::Sqs::process)):
//!   your async fn per part; its result is recorded with **one conditional
//!   write and no read**, so a redelivered message or a worker that died
//!   after its work never counts a part twice.
//! - **Fan-in** ([`FanIn`]): the worker whose write completes the job
//!   (completed + failed = total) claims the fan-in with a conditional
//!   status change (`RUNNING` → `COMPLETING`) and runs your fn, retried in
//!   place with [`halo::retry`](crate::retry) backoff; a fan-in that still
//!   fails stays `COMPLETING` for the sweeper. Only one claim can win, so
//!   it runs once; if the run holding it dies, the sweeper runs it again
//!   after the claim's lease: make its side effects idempotent on the job
//!   id.
//! - **Failures** ([`Fanout::process_dead_letters`]): a part whose message
//!   exhausts the queue's `maxReceiveCount` reaches the dead-letter queue;
//!   halo's handler records it as failed. [`Policy::Collect`] runs the
//!   fan-in once every part is in, failed ones listed; [`Policy::FailFast`]
//!   runs it at the first failure ([`Outcome::FailedFast`]).
//! - **Sweeper** ([`Fanout::sweep`], on a schedule): ends jobs past their
//!   deadline ([`Outcome::TimedOut`], missing parts named) and retries
//!   fan-ins that failed or whose run died. It queries an index of due
//!   jobs, never scans.
//! - **Status** ([`Fanout::status`]): status, counts, missing and failed
//!   parts, for an API answering "is it ready?".
//!
//! Stores: [`DynamoDbFanoutStore`] (one item per job; the request counts
//! and the 400 KB limit on results are in its docs) and
//! [`MemoryFanoutStore`] (local runs and tests), picked by
//! [`store_from_env`] from `HALO_FANOUT_TABLE` with halo's one store rule.
//! Parts go to SQS ([`SqsDispatcher`], `HALO_FANOUT_QUEUE_URL`) or, in a
//! local run, to a [`MemoryDispatcher`] that [`Fanout::run_local`] drains
//! through the worker, redeliveries and dead letters included.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use halo::batch::BatchOptions;
//! use halo::fanout::{FanIn, Fanout, NewJob, Part};
//!
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Resize { width: u32 }
//!
//! async fn resize(part: Part<Resize>) -> Result<String, halo::Error> {
//!     Ok(format!("photo-{}.jpg", part.body.width)) // the key of the rendition written
//! }
//!
//! async fn publish(fan_in: FanIn<String, String>) -> Result<(), halo::Error> {
//!     tracing::info!(photo = %fan_in.context, renditions = ?fan_in.results, "all renditions ready");
//!     Ok(())
//! }
//!
//! let fanout = Fanout::in_memory("renditions");
//! let parts = [Resize { width: 64 }, Resize { width: 256 }];
//! fanout.start(NewJob::new("photo-1", "photo.jpg".to_owned()), &parts).await.unwrap();
//! fanout.run_local(&BatchOptions::default(), resize, publish).await.unwrap();
//! let status = fanout.status("photo-1").await.unwrap().unwrap();
//! assert_eq!((status.completed, status.status), (2, halo::fanout::JobStatus::Completed));
//! # });
//! ```

mod dead_letter;
mod dispatch;
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
mod store;
mod sweeper;
mod worker;

pub use dead_letter::DEAD_LETTERED;
pub use dispatch::{
    BATCH_BYTES, BATCH_SIZE, DispatchError, Dispatcher, JOB_ID_ATTRIBUTE, PART_ATTRIBUTE, PartMessage, batches,
};
pub use dynamodb::{DUE_INDEX, DynamoDbFanoutStore, table_spec};
pub use env::{QUEUE_ENV, TABLE_ENV, store_from_env};
pub use error::FanoutError;
pub use fan_in::{FanIn, FanInFn};
pub use job::{FanInClaim, JobRecord, JobStatus, Outcome, PartFailure, Policy};
pub use jobs::Fanout;
pub use local::{LOCAL_MAX_RECEIVES, LocalRun};
pub use memory::MemoryFanoutStore;
pub use memory_queue::MemoryDispatcher;
pub use sqs::SqsDispatcher;
pub use start::{MAX_JOB_ID_LEN, MAX_PARTS, NewJob, Started};
pub use status::{FailedPart, JobView};
pub use store::{Claim, ClaimReason, Created, FanoutStore, Finish, ITEM_LIMIT_BYTES, PartOutcome, Recorded, Release};
pub use sweeper::{SweepReport, SweptJob};
pub use worker::{Part, PartFn, PartRecording};
