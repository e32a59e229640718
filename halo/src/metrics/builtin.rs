//! halo's own operational metrics, and the cold-start metric.
//!
//! With `HALO_METRICS_BUILTIN=true` (or
//! [`MetricsConfig::builtin`](super::MetricsConfig::builtin)) halo counts
//! what its features decide, so an operator can set alarms without writing
//! any metric code. Each is a `Count` of 1 per occurrence, in the
//! configured namespace, with the dimensions `service` and, where a
//! feature has a name, `operation` (the idempotent function's name, the
//! saga's name, the breaker's name, the batch's event source); each
//! invocation writes them in lines of their own, so they do not take on
//! the invocation's own dimensions.
//!
//! | metric | counted when | `operation` |
//! |---|---|---|
//! | `IdempotencyClaimed` | a call claims its key and runs | idempotency name |
//! | `IdempotencyReplayed` | a duplicate gets the stored result | idempotency name |
//! | `IdempotencyInProgress` | a duplicate arrives while the first call runs | idempotency name |
//! | `IdempotencyMismatch` | a duplicate's payload differs (422) | idempotency name |
//! | `BreakerRejected` | an open breaker refuses a call | breaker name |
//! | `BreakerOpened`, `BreakerHalfOpened`, `BreakerClosed` | a breaker changes state | breaker name |
//! | `SagaCompleted`, `SagaRolledBack`, `SagaCompensationFailed`, `SagaUncompensated`, `SagaSuspended` | a saga reaches that outcome (once: a replay of a finished saga is not counted again) | saga name |
//! | `BatchRecordFailed` | a batch record fails | `sqs`, `kinesis`, `dynamodb-stream` |
//! | `InvocationTimeout` | halo's timeout guard answers for a handler | |
//! | `InvocationPanic` | a handler panics | |
//!
//! Counts made outside an invocation (a breaker's background refresh) are
//! written with the next invocation's metrics.

use super::Metrics;
use super::unit::Unit;

/// A call claimed its idempotency key and ran.
pub(crate) const IDEMPOTENCY_CLAIMED: &str = "IdempotencyClaimed";
/// A duplicate call got the stored result.
pub(crate) const IDEMPOTENCY_REPLAYED: &str = "IdempotencyReplayed";
/// A duplicate arrived while the first call was still running.
pub(crate) const IDEMPOTENCY_IN_PROGRESS: &str = "IdempotencyInProgress";
/// A duplicate's payload did not match the first call's.
pub(crate) const IDEMPOTENCY_MISMATCH: &str = "IdempotencyMismatch";
/// An open circuit breaker refused a call.
pub(crate) const BREAKER_REJECTED: &str = "BreakerRejected";
/// A circuit breaker opened.
pub(crate) const BREAKER_OPENED: &str = "BreakerOpened";
/// A circuit breaker went half-open.
pub(crate) const BREAKER_HALF_OPENED: &str = "BreakerHalfOpened";
/// A circuit breaker closed.
pub(crate) const BREAKER_CLOSED: &str = "BreakerClosed";
/// A saga completed.
pub(crate) const SAGA_COMPLETED: &str = "SagaCompleted";
/// A saga failed and was rolled back.
pub(crate) const SAGA_ROLLED_BACK: &str = "SagaRolledBack";
/// A saga failed and a compensation failed too.
pub(crate) const SAGA_COMPENSATION_FAILED: &str = "SagaCompensationFailed";
/// A saga step failed with an error no ASL `Catch` handles (final,
/// nothing compensated).
pub(crate) const SAGA_UNCOMPENSATED: &str = "SagaUncompensated";
/// A saga was suspended (to be resumed or compensated later).
pub(crate) const SAGA_SUSPENDED: &str = "SagaSuspended";
/// A batch record failed.
#[cfg(feature = "batch")]
pub(crate) const BATCH_RECORD_FAILED: &str = "BatchRecordFailed";
/// halo's timeout guard answered before Lambda's deadline.
pub(crate) const INVOCATION_TIMEOUT: &str = "InvocationTimeout";
/// A handler panicked.
pub(crate) const INVOCATION_PANIC: &str = "InvocationPanic";
/// A shadowed request whose new answer matched the legacy one (operation: the route).
#[cfg(all(feature = "axum", feature = "http-client"))]
pub(crate) const SHADOW_MATCHED: &str = "ShadowMatched";
/// A shadowed request whose new answer differed from the legacy one.
#[cfg(all(feature = "axum", feature = "http-client"))]
pub(crate) const SHADOW_DIFFERED: &str = "ShadowDiffered";
/// A shadowed request whose new handler did not answer within the wait.
#[cfg(all(feature = "axum", feature = "http-client"))]
pub(crate) const SHADOW_TIMED_OUT: &str = "ShadowTimedOut";

/// Counts one `metric` of halo's own when builtin metrics are on (a
/// relaxed atomic load when they are off).
pub(crate) fn count(metric: &'static str, operation: Option<&str>) {
    if super::config::builtin_on() {
        // The names are valid; a refused operation name (a dimension
        // value CloudWatch would not take) is counted without it.
        if Metrics::builtin(operation).add_metric(metric, Unit::Count, 1.0).is_err() {
            let _ = Metrics::builtin(None).add_metric(metric, Unit::Count, 1.0);
        }
    }
}
