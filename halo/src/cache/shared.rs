//! [`SharedTier`]: a second tier of a [`Cache`](super::Cache), shared by
//! every container through a DynamoDB table.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::durable::dynamodb::{Item, ItemView, Table, store_error, to_n, to_s};
use crate::durable::{Fallback, KeyAttribute, StoreChoice, StoreConfigError, StoreError, TableSpec, choose_store};

/// The variable naming the shared tier's table.
const TABLE_ENV: &str = "HALO_CACHE_TABLE";
/// The key attribute: `<cache name>#<key>`.
const KEY: &str = "pk";
/// The value, as JSON text.
const VALUE: &str = "value";
/// When the value expires, in epoch seconds (the table's TTL attribute).
const EXPIRES: &str = "expires";
/// The largest value kept in the tier (a DynamoDB item holds 400 KB).
const MAX_VALUE_BYTES: usize = 350 * 1024;

/// A cache tier every container shares: a value one container loaded is
/// read by the others from a DynamoDB table (one `GetItem`) instead of
/// being loaded again, until its time to live (60 s by default) ends.
///
/// A [`Cache`](super::Cache) with [`Cache::shared`](super::Cache::shared)
/// looks in the container first, then in this tier, then calls its
/// loader and writes what it loaded here. The tier never fails a read:
/// when the table cannot be reached, or holds a value that no longer
/// decodes, the read goes on to the loader and the cause is logged. A
/// value over 350 KB is not written (DynamoDB's items hold 400 KB).
///
/// The table's key is the string `pk`, its TTL attribute `expires`
/// (halo checks the time itself: DynamoDB deletes expired items late).
/// The function needs `dynamodb:GetItem` and `dynamodb:PutItem` on it.
#[derive(Debug, Clone)]
pub struct SharedTier {
    table: Table,
    ttl: Duration,
}

/// The layout of the shared tier's table.
pub(crate) fn table_spec() -> TableSpec {
    TableSpec::new(KeyAttribute::string(KEY)).ttl(EXPIRES)
}

impl SharedTier {
    /// The tier on the DynamoDB table `table`.
    pub fn new(client: Client, table: impl Into<String>) -> SharedTier {
        SharedTier { table: Table::new(client, table), ttl: Duration::from_secs(60) }
    }

    /// The tier on the table `HALO_CACHE_TABLE` names, `None` without the
    /// variable (each container then caches on its own: a shared tier is
    /// an optimisation, never needed for a correct answer).
    ///
    /// # Errors
    ///
    /// A variable that is set but empty.
    pub async fn from_env() -> Result<Option<SharedTier>, StoreConfigError> {
        Ok(match choose_store("cache", TABLE_ENV, Fallback::PerContainer)? {
            StoreChoice::DynamoDb { table } => Some(SharedTier::new(crate::platform::dynamodb_client().await, table)),
            StoreChoice::Memory => None,
        })
    }

    /// How long a value stays in the tier.
    #[must_use]
    pub fn ttl(self, ttl: Duration) -> SharedTier {
        SharedTier { ttl, ..self }
    }

    /// Creates the table (tests, local tools; deploy it with your template).
    ///
    /// # Errors
    ///
    /// The table cannot be created.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        self.table.create(&table_spec()).await
    }

    /// The value under `key` if the tier has it and it has not expired at
    /// `now_ms`.
    pub(crate) async fn read<V: DeserializeOwned>(&self, key: &str, now_ms: u64) -> Option<V> {
        let item = match self.table.get(|| Item::from([(KEY.to_owned(), to_s(key))])).await {
            Ok(item) => item?,
            Err(err) => {
                tracing::warn!(error = %err, "the shared cache tier cannot be read; loading instead");
                return None;
            }
        };
        let view = ItemView::new(&item, "a shared cache value");
        let expires_s = view.number(EXPIRES).ok().flatten()?;
        if expires_s.saturating_mul(1000) <= now_ms {
            return None;
        }
        match serde_json::from_str(&view.string(VALUE)?) {
            Ok(value) => Some(value),
            Err(err) => {
                tracing::warn!(error = %err, "a shared cache value does not decode; loading instead");
                None
            }
        }
    }

    /// Keeps `value` under `key` for the tier's time to live from `now_ms`.
    pub(crate) async fn write<V: Serialize>(&self, key: &str, value: &V, now_ms: u64) {
        let Ok(text) = serde_json::to_string(value) else { return };
        if text.len() > MAX_VALUE_BYTES {
            tracing::debug!(bytes = text.len(), "a value too large for the shared cache tier is not written");
            return;
        }
        let expires_s = (now_ms + self.ttl.as_millis() as u64).div_ceil(1000);
        let item = Item::from([
            (KEY.to_owned(), to_s(key)),
            (VALUE.to_owned(), to_s(text)),
            (EXPIRES.to_owned(), to_n(expires_s)),
        ]);
        let put = self.table.client().put_item().table_name(self.table.name()).set_item(Some(item));
        if let Err(err) = put.send().await {
            tracing::warn!(error = %store_error("PutItem", err), "the shared cache tier cannot be written");
        }
    }
}
