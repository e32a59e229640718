//! Saga definitions in a subset of the Amazon States Language, run by the
//! same durable executor as typed sagas.
//!
//! Supported: `StartAt`; `States` of `Type` `Task`, `Succeed` and `Fail`;
//! on a `Task`: `Resource` (a name given to [`AslRegistry`]; an ARN matches
//! by its last `:`-separated part), `Next` or `End: true`, `ResultPath`
//! (`$`, `$.a.b` or `null`; default `$`), `Retry` (`ErrorEquals`,
//! `MaxAttempts` (default 3), `IntervalSeconds` (default 1), `BackoffRate`
//! (default 2.0): exact delays, no jitter, each retrier counting its own
//! attempts) and `Catch` (`ErrorEquals`, `Next`, `ResultPath`).
//!
//! The states from `StartAt` along `Next` are the saga's steps; a `Catch`
//! leads to a compensation chain (tasks along `Next` to a `Fail`). When a
//! step fails, the first `Catch` whose `ErrorEquals` holds the error's code
//! (or `States.ALL`) runs its chain: every task of the chain is attempted
//! (retried by its `Retry`, else 5 times with backoff), and the saga ends
//! [`RolledBack`](super::SagaError::RolledBack) or
//! [`CompensationFailed`](super::SagaError::CompensationFailed). An error no
//! `Catch` matches ends it
//! [`Uncompensated`](super::SagaError::Uncompensated), as Step Functions
//! would fail the execution. The error reaches the chain as
//! `{"Error": code, "Cause": detail}` at the `Catch`'s `ResultPath`.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use halo::saga::{MemorySagaLog, Saga, asl::AslRegistry};
//! use serde_json::{Value, json};
//!
//! let definition = r#"{
//!   "StartAt": "Reserve",
//!   "States": {
//!     "Reserve": { "Type": "Task", "Resource": "Reserve", "ResultPath": "$.reservation", "End": true,
//!                  "Catch": [{ "ErrorEquals": ["States.ALL"], "Next": "Failed" }] },
//!     "Failed": { "Type": "Fail" }
//!   }
//! }"#;
//! let registry = AslRegistry::new().task("Reserve", |_ctx, input: Value| async move {
//!     Ok::<_, halo::Error>(json!({ "seats": input["seats"] }))
//! });
//! let saga = Saga::from_asl(definition, &registry).unwrap().with_name("reserve");
//! let out = saga.run(&MemorySagaLog::new(), "r-1", json!({ "seats": 2 })).await.unwrap();
//! assert_eq!(out, json!({ "seats": 2, "reservation": { "seats": 2 } }));
//! # });
//! ```

mod error;
mod lower;
mod parse;
mod registry;
mod validate;

pub use error::{AslError, AslIssue};
pub use registry::AslRegistry;

use serde_json::Value;

use super::saga::Saga;

impl Saga<Value, Value> {
    /// Loads a saga from an ASL definition; see [the module](self) for the
    /// subset. The saga is named `asl:<StartAt>` until [`with_name`](Saga::with_name).
    ///
    /// Three phases: parse the JSON into states, validate the definition
    /// as a whole (targets, resources, `StartAt`, cycles, reachability),
    /// then lower it into the saga's steps and compensation chains.
    ///
    /// # Errors
    ///
    /// Every problem found, each with its JSON path: invalid JSON, a
    /// missing or unknown `StartAt` / `Next` target, an unregistered
    /// `Resource`, an unreachable state, a cycle, a task without `Next` or
    /// `End`, an unsupported `Type` or `ResultPath`.
    pub fn from_asl(json: &str, registry: &AslRegistry) -> Result<Saga<Value, Value>, AslError> {
        let definition = parse::parse(json)?;
        let start = validate::validate(&definition, registry)?;
        lower::lower(&definition, start, registry)
    }
}
