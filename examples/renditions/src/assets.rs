//! Where finished assets are recorded: a DynamoDB table (`ASSETS_TABLE`),
//! or memory in a local run.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::types::AttributeValue;
use halo::platform::{Fallback, StoreChoice, choose_store};
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
    DynamoDb {
        /// The shared client.
        client: aws_sdk_dynamodb::Client,
        /// The table.
        table: String,
    },
    /// This process's memory (a local run).
    Memory(Arc<Mutex<HashMap<String, Asset>>>),
}

impl Assets {
    /// The store the environment asks for, by halo's store rule: the
    /// table named by `ASSETS_TABLE`, memory in a local run, an init error
    /// inside Lambda without it.
    pub async fn from_env() -> Result<Assets, String> {
        match choose_store("assets", TABLE_ENV, Fallback::InitError).map_err(|e| e.to_string())? {
            StoreChoice::DynamoDb { table } => {
                Ok(Assets::DynamoDb { client: halo::platform::dynamodb_client().await, table })
            }
            StoreChoice::Memory => Ok(Assets::Memory(Arc::default())),
        }
    }

    /// Records `asset` (a plain `PutItem`: recording the same asset twice
    /// writes the same item, so a fan-in run again changes nothing).
    pub async fn put(&self, asset: &Asset) -> Result<(), halo::Error> {
        match self {
            Assets::DynamoDb { client, table } => {
                client
                    .put_item()
                    .table_name(table)
                    .item("asset_id", AttributeValue::S(asset.asset_id.clone()))
                    .item("asset", AttributeValue::S(serde_json::to_string(asset)?))
                    .send()
                    .await
                    .map_err(|e| unavailable(e.into_service_error()))?;
            }
            Assets::Memory(assets) => {
                assets.lock().unwrap_or_else(|p| p.into_inner()).insert(asset.asset_id.clone(), asset.clone());
            }
        }
        Ok(())
    }

    /// The asset `asset_id`, once its job ended.
    pub async fn get(&self, asset_id: &str) -> Result<Option<Asset>, halo::Error> {
        match self {
            Assets::DynamoDb { client, table } => {
                let output = client
                    .get_item()
                    .table_name(table)
                    .key("asset_id", AttributeValue::S(asset_id.to_owned()))
                    .consistent_read(true)
                    .send()
                    .await
                    .map_err(|e| unavailable(e.into_service_error()))?;
                let json = output.item().and_then(|item| item.get("asset")).and_then(|v| v.as_s().ok());
                Ok(json.map(|json| serde_json::from_str(json)).transpose()?)
            }
            Assets::Memory(assets) => Ok(assets.lock().unwrap_or_else(|p| p.into_inner()).get(asset_id).cloned()),
        }
    }
}

fn unavailable(err: impl std::error::Error + Send + Sync + 'static) -> halo::Error {
    halo::Error::unavailable("the assets table is unavailable").with_code("AssetsUnavailable").with_source(err)
}
