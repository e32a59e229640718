//! Where finished assets are recorded: a DynamoDB table (`ASSETS_TABLE`),
//! or memory in a local run.

use halo::durable::dynamodb::{Item, Table, to_s};
use halo::durable::{Fallback, MemoryMap, StoreChoice, StoreConfigError, choose_store};
use serde::{Deserialize, Serialize};

use crate::asset::Output;

/// The variable naming the assets table.
pub const TABLE_ENV: &str = "ASSETS_TABLE";

/// Whether an asset can be served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssetStatus {
    /// Every rendition and the metadata exist.
    Ready,
    /// A part failed, or did not arrive before the job's deadline.
    Failed,
}

/// A finished asset: what the fan-in records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// The asset's id.
    pub asset_id: String,
    /// Whether it can be served.
    pub status: AssetStatus,
    /// The renditions made.
    pub renditions: Vec<Output>,
    /// The metadata, if it was read.
    pub metadata: Option<Output>,
    /// The parts that failed (indexes of the job's parts).
    pub failed_parts: Vec<u32>,
    /// The parts that never arrived.
    pub missing_parts: Vec<u32>,
}

/// The assets store.
#[derive(Debug, Clone)]
pub enum Assets {
    /// A DynamoDB table (key `asset_id`, the asset as JSON in `asset`).
    DynamoDb(Table),
    /// This process's memory (a local run).
    Memory(MemoryMap<Asset>),
}

impl Assets {
    /// The store the environment asks for, by halo's store rule: the
    /// table named by `ASSETS_TABLE`, memory in a local run, an init error
    /// inside Lambda without it.
    pub async fn from_env() -> Result<Assets, StoreConfigError> {
        match choose_store("assets", TABLE_ENV, Fallback::InitError)? {
            StoreChoice::DynamoDb { table } => {
                Ok(Assets::DynamoDb(Table::new(halo::platform::dynamodb_client().await, table)))
            }
            StoreChoice::Memory => Ok(Assets::Memory(MemoryMap::new())),
        }
    }

    /// Records `asset` (a plain `PutItem`: recording the same asset twice
    /// writes the same item, so a fan-in run again changes nothing).
    pub async fn put(&self, asset: &Asset) -> Result<(), halo::Error> {
        match self {
            Assets::DynamoDb(table) => {
                let put = table.client().put_item().table_name(table.name());
                put.item("asset_id", to_s(&asset.asset_id))
                    .item("asset", to_s(serde_json::to_string(asset)?))
                    .send()
                    .await
                    .map_err(|e| unavailable(e.into_service_error()))?;
            }
            Assets::Memory(assets) => {
                assets.insert(asset.asset_id.clone(), asset.clone());
            }
        }
        Ok(())
    }

    /// The asset `asset_id`, once its job ended.
    pub async fn get(&self, asset_id: &str) -> Result<Option<Asset>, halo::Error> {
        match self {
            Assets::DynamoDb(table) => {
                let key = || Item::from([("asset_id".to_owned(), to_s(asset_id))]);
                let item = table.get(key).await.map_err(unavailable)?;
                let json = item.as_ref().and_then(|item| item.get("asset")).and_then(|v| v.as_s().ok());
                Ok(json.map(|json| serde_json::from_str(json)).transpose()?)
            }
            Assets::Memory(assets) => Ok(assets.get(asset_id)),
        }
    }
}

fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> halo::Error {
    halo::Error::unavailable("the assets table is unavailable").with_code("AssetsUnavailable").with_source(err)
}
