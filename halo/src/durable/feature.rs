//! The durable features of halo, each described once: its store's name,
//! the variable naming its table, what it does without one, and the codes
//! its store errors become; and the one cached "store from the
//! environment" rule they share.

use super::choice::{Fallback, StoreChoice, choose_store};
use super::error::StoreError;

/// A feature whose state lives in a store.
#[derive(Debug)]
pub(crate) struct Feature {
    /// What [`choose_store`] calls it (`idempotency`).
    pub(crate) name: &'static str,
    /// What its store is called in messages (`idempotency store`).
    pub(crate) store: &'static str,
    /// The variable naming its DynamoDB table.
    pub(crate) variable: &'static str,
    /// What it does inside Lambda without the variable.
    pub(crate) fallback: Fallback,
    /// The code of an unavailable store (503).
    pub(crate) code: &'static str,
    /// The public message of an unavailable store.
    pub(crate) unavailable: &'static str,
    /// What a record too large for the store becomes.
    pub(crate) too_large: TooLarge,
}

/// The halo error of a record refused for its size.
#[derive(Debug)]
pub(crate) struct TooLarge {
    /// 422 (the caller's input made it too large) or 500.
    pub(crate) unprocessable: bool,
    pub(crate) code: &'static str,
    pub(crate) message: &'static str,
}

impl TooLarge {
    pub(crate) fn error(&self) -> crate::Error {
        let error = if self.unprocessable {
            crate::Error::unprocessable(self.message)
        } else {
            crate::Error::internal(self.message)
        };
        error.with_code(self.code)
    }
}

/// A store of no particular feature (one a user calls directly).
pub(crate) static ANY: Feature = Feature {
    name: "durable",
    store: "store",
    variable: "",
    fallback: Fallback::InitError,
    code: "StoreUnavailable",
    unavailable: "a store is unavailable; retry later",
    too_large: TooLarge {
        unprocessable: false,
        code: "StoreRecordTooLarge",
        message: "the record is too large to store",
    },
};

impl Feature {
    /// The store the environment asks for, by the one rule of
    /// [`choose_store`]; a refusal is a [`StoreError`] that is not
    /// configured, naming the variable.
    pub(crate) fn choose(&'static self) -> Result<StoreChoice, StoreError> {
        choose_store(self.name, self.variable, self.fallback).map_err(|e| StoreError::not_configured(e).of(self))
    }
}

/// A feature's store as the environment builds it.
pub(crate) trait EnvStore: Clone + Send + Sync + 'static {
    /// The DynamoDB store on `table`.
    #[cfg(feature = "dynamodb")]
    fn dynamodb(client: aws_sdk_dynamodb::Client, table: String) -> Self;
    /// The in-memory store.
    fn memory() -> Self;
}

/// The container's one store of a feature, built from the environment on
/// first use (or set once by the user's init), the same instance ever
/// after: a handler asking for it never gets a fresh in-memory store.
pub(crate) struct FromEnv<S> {
    feature: &'static Feature,
    cell: tokio::sync::OnceCell<S>,
}

impl<S: EnvStore> FromEnv<S> {
    pub(crate) const fn new(feature: &'static Feature) -> FromEnv<S> {
        FromEnv { feature, cell: tokio::sync::OnceCell::const_new() }
    }

    /// The store, built on the first call.
    pub(crate) async fn get(&self) -> Result<S, StoreError> {
        self.cell.get_or_try_init(|| self.build()).await.cloned()
    }

    /// Makes `store` the one [`FromEnv::get`] returns; `false` if a store
    /// was set or built before.
    pub(crate) fn set(&self, store: S) -> bool {
        self.cell.set(store).is_ok()
    }

    async fn build(&self) -> Result<S, StoreError> {
        match self.feature.choose()? {
            #[cfg(feature = "dynamodb")]
            StoreChoice::DynamoDb { table } => Ok(S::dynamodb(crate::platform::dynamodb_client().await, table)),
            // `choose_store` refuses a table without the feature; kept as an
            // error, never a panic.
            #[cfg(not(feature = "dynamodb"))]
            StoreChoice::DynamoDb { .. } => {
                Err(StoreError::not_configured(format!("{} needs halo's `dynamodb` feature", self.feature.variable))
                    .of(self.feature))
            }
            StoreChoice::Memory => Ok(S::memory()),
        }
    }
}
