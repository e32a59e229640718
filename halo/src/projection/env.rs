//! The view store the environment asks for.

use std::sync::Arc;

use super::memory::MemoryViews;
use super::projector::Projector;
use super::store::ViewStore;
use crate::durable::feature::{EnvStore, Feature, FromEnv, TooLarge};
use crate::durable::{Fallback, StoreError};

/// The variable naming the DynamoDB table of views.
pub(crate) const TABLE_ENV: &str = "HALO_VIEWS_TABLE";

/// The view store, described once.
pub(crate) static STORE: Feature = Feature {
    name: "views",
    store: "view store",
    variable: TABLE_ENV,
    fallback: Fallback::InitError,
    code: "ViewStore",
    unavailable: "the views are unavailable; retry later",
    too_large: TooLarge {
        unprocessable: false,
        code: "ViewWriteTooLarge",
        message: "a change writes more view items than one transaction holds",
    },
};

impl EnvStore for Arc<dyn ViewStore> {
    #[cfg(feature = "dynamodb")]
    fn dynamodb(client: aws_sdk_dynamodb::Client, table: String) -> Self {
        Arc::new(super::DynamoDbViews::new(client, table))
    }

    fn memory() -> Self {
        Arc::new(MemoryViews::new())
    }
}

static STORE_FROM_ENV: FromEnv<Arc<dyn ViewStore>> = FromEnv::new(&STORE);

impl Projector {
    /// A projector on the views the environment asks for, by halo's one
    /// store rule: the DynamoDB table `HALO_VIEWS_TABLE` names; inside
    /// Lambda without it, an error naming the variable; in a local run,
    /// views in memory, shared by every projector of the process.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // A local run: views in memory.
    /// let projector = halo::projection::Projector::from_env().await?;
    /// assert!(projector.view::<serde_json::Value>("summary", "ada").await?.is_none());
    /// # Ok::<(), halo::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// Inside Lambda, `HALO_VIEWS_TABLE` unset.
    pub async fn from_env() -> Result<Projector, StoreError> {
        Ok(Projector::new(STORE_FROM_ENV.get().await?))
    }
}
