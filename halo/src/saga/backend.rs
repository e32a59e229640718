//! Where a saga keeps its progress: [`SagaBackend`].

use std::sync::Arc;

use super::error::SagaError;
use super::log::SagaLog;

/// The environment variable choosing a saga's backend in
/// [`SagaBackend::from_env`] and `SagaBackend::from_execution`: `log` or
/// `durable`.
pub(crate) const BACKEND_ENV: &str = "HALO_SAGA_BACKEND";

/// Where a saga keeps its progress, for
/// [`Saga::run_on`](super::Saga::run_on): the same saga definition runs on
/// either.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use halo::saga::{MemorySagaLog, Saga, SagaBackend, StepCtx};
///
/// #[halo::saga_step]
/// async fn add_one(_ctx: &StepCtx, n: u32) -> Result<u32, halo::Error> { Ok(n + 1) }
///
/// let backend = SagaBackend::Log(std::sync::Arc::new(MemorySagaLog::new()));
/// let saga = Saga::<u32>::new("math").step(add_one);
/// assert_eq!(saga.run_on(&backend, "m-1", 41).await.unwrap(), 42);
/// # });
/// ```
#[derive(Clone)]
#[non_exhaustive]
pub enum SagaBackend {
    /// halo's saga log (DynamoDB, or memory in a local run): the saga is
    /// resumed by running it again with its id, or by
    /// [`recover`](super::recover).
    Log(Arc<dyn SagaLog>),
    /// A Lambda durable execution's checkpoints: the execution resumes
    /// the saga by itself, and pauses cost nothing.
    #[cfg(feature = "durable-execution")]
    Durable(aws_durable_execution_sdk::DurableContext),
}

impl SagaBackend {
    /// The backend the configuration asks for, outside a durable
    /// execution: halo's saga log ([`log_from_env`](super::log_from_env))
    /// unless `HALO_SAGA_BACKEND` says otherwise.
    ///
    /// # Errors
    ///
    /// [`SagaError::Definition`] for `durable` (a durable execution's
    /// saga takes its backend from [`SagaBackend::from_execution`]) or an
    /// unknown value; [`SagaError::Log`] when the saga log cannot be built.
    pub async fn from_env() -> Result<SagaBackend, SagaError> {
        match std::env::var(BACKEND_ENV).ok().as_deref() {
            None | Some("log") => Ok(SagaBackend::Log(super::log_from_env().await?)),
            Some("durable") => Err(SagaError::Definition(format!(
                "{BACKEND_ENV}=durable, but the saga does not run in a durable execution (feature `durable-execution`, SagaBackend::from_execution)"
            ))),
            Some(_) => Err(SagaError::Definition(format!("{BACKEND_ENV} is neither `log` nor `durable`"))),
        }
    }

    /// The backend of a saga run by the durable execution `execution`:
    /// its checkpoints, unless `HALO_SAGA_BACKEND=log` asks for halo's saga
    /// log.
    ///
    /// # Errors
    ///
    /// [`SagaError::Definition`] for an unknown value; [`SagaError::Log`]
    /// when the saga log cannot be built.
    #[cfg(feature = "durable-execution")]
    pub async fn from_execution(
        execution: &aws_durable_execution_sdk::DurableContext,
    ) -> Result<SagaBackend, SagaError> {
        match std::env::var(BACKEND_ENV).ok().as_deref() {
            None | Some("durable") => Ok(SagaBackend::Durable(execution.clone())),
            Some("log") => Ok(SagaBackend::Log(super::log_from_env().await?)),
            Some(_) => Err(SagaError::Definition(format!("{BACKEND_ENV} is neither `log` nor `durable`"))),
        }
    }
}

/// Whether the sagas of a durable execution keep their progress in the
/// saga log (`HALO_SAGA_BACKEND=log`) rather than its checkpoints.
#[cfg(feature = "durable-execution")]
pub(crate) fn durable_sagas_use_log() -> bool {
    std::env::var(BACKEND_ENV).is_ok_and(|backend| backend == "log")
}

impl std::fmt::Debug for SagaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SagaBackend::Log(_) => f.write_str("SagaBackend::Log"),
            #[cfg(feature = "durable-execution")]
            SagaBackend::Durable(execution) => {
                f.debug_tuple("SagaBackend::Durable").field(&execution.execution_arn()).finish()
            }
        }
    }
}
