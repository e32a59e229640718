//! The one rule that picks the backing store of a feature.

use super::env::{in_lambda, non_empty_var};

/// What a feature without its table variable does inside Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fallback {
    /// Fail the container's init: an in-memory store would not be shared
    /// by the fleet and would not survive the container (idempotency, saga
    /// log). The default for every store.
    InitError,
    /// Keep per-container state, with a warning: correct but not shared
    /// (the circuit breaker, whose state is an optimisation).
    PerContainer,
}

/// The store a feature uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// The DynamoDB table named by the feature's variable.
    DynamoDb {
        /// The table name.
        table: String,
    },
    /// An in-memory store: local runs (and, with
    /// [`Fallback::PerContainer`], per-container state inside Lambda).
    Memory,
}

/// A store the environment asks for but cannot have: the variable is
/// missing inside Lambda, or names a table while halo was built without
/// its `dynamodb` feature. The message names the variable and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfigError {
    /// The variable that names the table.
    pub variable: &'static str,
    message: String,
}

impl std::fmt::Display for StoreConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for StoreConfigError {}

/// `StoreNotConfigured` (500): an operator's mistake, only logged.
impl crate::IntoError for StoreConfigError {
    fn into_error(self) -> crate::Error {
        crate::Error::internal(self).with_code("StoreNotConfigured")
    }
}

/// Picks the store of `feature` (e.g. `"idempotency"`) from the table
/// variable `variable` (e.g. `HALO_IDEMPOTENCY_TABLE`):
///
/// 1. the variable is set: DynamoDB on that table;
/// 2. not set, outside Lambda (a local run): memory;
/// 3. not set, inside Lambda: an error naming the variable
///    ([`Fallback::InitError`]), or memory with a warning
///    ([`Fallback::PerContainer`]).
///
/// ```
/// use halo::platform::{Fallback, StoreChoice, choose_store};
///
/// // A local run without the variable: memory.
/// let choice = choose_store("orders", "HALO_EXAMPLE_UNSET_TABLE", Fallback::InitError).unwrap();
/// assert_eq!(choice, StoreChoice::Memory);
/// ```
pub fn choose_store(
    feature: &'static str,
    variable: &'static str,
    fallback: Fallback,
) -> Result<StoreChoice, StoreConfigError> {
    if let Some(table) = non_empty_var(variable) {
        if !cfg!(feature = "dynamodb") {
            return Err(StoreConfigError {
                variable,
                message: format!("{variable} is set but halo was built without its `dynamodb` feature"),
            });
        }
        return Ok(StoreChoice::DynamoDb { table });
    }
    if !in_lambda() {
        tracing::info!(feature, "local run without {variable}: the {feature} store is in memory");
        return Ok(StoreChoice::Memory);
    }
    match fallback {
        Fallback::InitError => Err(StoreConfigError {
            variable,
            message: format!(
                "no {feature} table is configured: set {variable} to the DynamoDB table name \
                 (halo never falls back to an in-memory {feature} store inside Lambda)"
            ),
        }),
        Fallback::PerContainer => {
            tracing::warn!(feature, "no {variable}: the {feature} state is per container, not shared by the fleet");
            Ok(StoreChoice::Memory)
        }
    }
}
