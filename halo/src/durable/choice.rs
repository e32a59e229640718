//! The one rule that picks the backing store of a feature.

use crate::platform::{RUNTIME_API_ENV, in_lambda, non_empty_var};

/// What a feature without its table variable does inside Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
#[non_exhaustive]
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

crate::error::from::own_error!(StoreConfigError);

/// The variable that puts halo's stores in memory under a Runtime API
/// emulator (`cargo lambda watch`): `HALO_STORES=memory`. Each store it
/// affects logs a warning; a table variable still wins for its feature;
/// on AWS Lambda itself (where `LAMBDA_TASK_ROOT` is set) it is refused.
pub(crate) const STORES_ENV: &str = "HALO_STORES";

/// The variable AWS Lambda sets for every runtime (an emulator does not).
const TASK_ROOT_ENV: &str = "LAMBDA_TASK_ROOT";

/// Picks the store of `feature` (e.g. `"idempotency"`) from the table
/// variable `variable` (e.g. `HALO_IDEMPOTENCY_TABLE`):
///
/// 1. the variable is set: DynamoDB on that table;
/// 2. not set, outside Lambda (a local run): memory;
/// 3. not set, under a Runtime API with `HALO_STORES=memory` (an emulator
///    such as `cargo lambda watch`; never on AWS Lambda): memory, with a
///    warning;
/// 4. not set, inside Lambda: an error naming the variable
///    ([`Fallback::InitError`]), or memory with a warning
///    ([`Fallback::PerContainer`]).
///
/// ```
/// use halo::durable::{Fallback, StoreChoice, choose_store};
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
    let stores = non_empty_var(STORES_ENV);
    let on_aws = std::env::var_os(TASK_ROOT_ENV).is_some();
    choose(Environment {
        feature,
        variable,
        fallback,
        table: non_empty_var(variable),
        in_lambda: in_lambda(),
        stores,
        on_aws,
    })
}

/// What [`choose_store`] reads, read.
struct Environment {
    feature: &'static str,
    variable: &'static str,
    fallback: Fallback,
    table: Option<String>,
    in_lambda: bool,
    stores: Option<String>,
    on_aws: bool,
}

fn choose(env: Environment) -> Result<StoreChoice, StoreConfigError> {
    let Environment { feature, variable, fallback, table, in_lambda, stores, on_aws } = env;
    let error = |message: String| StoreConfigError { variable, message };
    if let Some(table) = table {
        if !cfg!(feature = "dynamodb") {
            return Err(error(format!(
                "{variable} is set but halo was built without its `dynamodb` feature: \
                 add `features = [\"dynamodb\"]` to the halo dependency"
            )));
        }
        return Ok(StoreChoice::DynamoDb { table });
    }
    if !in_lambda {
        tracing::info!(feature, "local run without {variable}: the {feature} store is in memory");
        return Ok(StoreChoice::Memory);
    }
    match stores.as_deref() {
        None => {}
        Some(value) if !value.eq_ignore_ascii_case("memory") => {
            return Err(StoreConfigError {
                variable: STORES_ENV,
                message: format!("{STORES_ENV} may only be `memory` (found another value): unset it or set `memory`"),
            });
        }
        Some(_) if on_aws => {
            return Err(StoreConfigError {
                variable: STORES_ENV,
                message: format!(
                    "{STORES_ENV}=memory is refused on AWS Lambda ({TASK_ROOT_ENV} is set): in-memory stores \
                     are not shared by containers and die with them; unset it and set {variable}"
                ),
            });
        }
        Some(_) => {
            tracing::warn!(
                feature,
                "{STORES_ENV}=memory: the {feature} store is in memory, in this process only (an emulator run)"
            );
            return Ok(StoreChoice::Memory);
        }
    }
    match fallback {
        Fallback::InitError => Err(error(format!(
            "no {feature} table is configured: set {variable} to the DynamoDB table name. \
             halo runs as a Lambda function here because {RUNTIME_API_ENV} is set (by Lambda, or by an \
             emulator such as `cargo lambda watch`), and it never falls back to an in-memory {feature} store \
             there. For in-memory stores run the binary without {RUNTIME_API_ENV} \
             (`<binary> invoke event.json`, `<binary> serve`), or set {STORES_ENV}=memory under an emulator"
        ))),
        Fallback::PerContainer => {
            tracing::warn!(feature, "no {variable}: the {feature} state is per container, not shared by the fleet");
            Ok(StoreChoice::Memory)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(table: Option<&str>, in_lambda: bool, stores: Option<&str>, on_aws: bool) -> Environment {
        Environment {
            feature: "idempotency",
            variable: "HALO_IDEMPOTENCY_TABLE",
            fallback: Fallback::InitError,
            table: table.map(str::to_owned),
            in_lambda,
            stores: stores.map(str::to_owned),
            on_aws,
        }
    }

    #[test]
    fn a_table_variable_always_wins() {
        for (in_lambda, stores, on_aws) in [(false, None, false), (true, None, true), (true, Some("memory"), false)] {
            let choice = choose(env(Some("t"), in_lambda, stores, on_aws));
            if cfg!(feature = "dynamodb") {
                assert_eq!(choice.unwrap(), StoreChoice::DynamoDb { table: "t".into() });
            } else {
                assert!(choice.unwrap_err().to_string().contains("`dynamodb` feature"));
            }
        }
    }

    #[test]
    fn inside_lambda_without_a_table_init_fails_saying_what_to_set() {
        let err = choose(env(None, true, None, false)).unwrap_err();
        assert_eq!(err.variable, "HALO_IDEMPOTENCY_TABLE");
        let message = err.to_string();
        for says in [
            "set HALO_IDEMPOTENCY_TABLE",
            &format!("{RUNTIME_API_ENV} is set"),
            "cargo lambda watch",
            "invoke",
            "HALO_STORES=memory",
        ] {
            assert!(message.contains(says), "{says:?} in {message}");
        }
    }

    #[test]
    fn memory_stores_under_an_emulator_only_when_asked_and_never_on_aws() {
        assert_eq!(choose(env(None, false, None, false)).unwrap(), StoreChoice::Memory, "a local run");
        assert_eq!(choose(env(None, true, Some("memory"), false)).unwrap(), StoreChoice::Memory, "an emulator");
        assert_eq!(choose(env(None, true, Some("MEMORY"), false)).unwrap(), StoreChoice::Memory);
        let refused = choose(env(None, true, Some("memory"), true)).unwrap_err();
        assert_eq!(refused.variable, "HALO_STORES");
        assert!(refused.to_string().contains("refused on AWS Lambda"), "{refused}");
        let unknown = choose(env(None, true, Some("redis"), false)).unwrap_err();
        assert!(unknown.to_string().contains("may only be `memory`"), "{unknown}");
        assert!(!unknown.to_string().contains("redis"), "the value is not echoed");
    }
}
