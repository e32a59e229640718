//! What every binary builds once per container, and the fan-in.

use std::time::Duration;

use halo::fanout::{FanIn, Fanout, JobOutcome, Part as FanoutPart};

use crate::asset::{Output, Task, Upload, render};
use crate::assets::{Asset, AssetStatus, Assets};

/// The kind of the fan-out jobs (the sweeper's partition in the job table).
pub const KIND: &str = "renditions";

/// The variable giving a job's deadline in seconds (default 900).
pub const DEADLINE_ENV: &str = "RENDITIONS_DEADLINE_S";

/// The container's state: the jobs of kind [`KIND`] (`HALO_FANOUT_TABLE`,
/// `HALO_FANOUT_QUEUE_URL`) and the assets (`ASSETS_TABLE`); in a local
/// run, all in memory.
#[derive(Debug, Clone)]
pub struct App {
    /// The fan-out jobs.
    pub fanout: Fanout,
    /// The finished assets.
    pub assets: Assets,
    /// How long a job may take.
    pub deadline: Duration,
}

/// Why an init failed, with its whole cause chain (halo logs each cause).
pub type InitError = Box<dyn std::error::Error + Send + Sync>;

/// Builds the [`App`] (the `init` of every binary).
pub async fn init() -> Result<App, InitError> {
    let fanout = Fanout::from_env(KIND).await?;
    let deadline = match std::env::var(DEADLINE_ENV).ok().filter(|v| !v.trim().is_empty()) {
        Some(seconds) => Duration::from_secs(seconds.parse().map_err(|_| format!("{DEADLINE_ENV} is not a number"))?),
        None => Duration::from_secs(900),
    };
    Ok(App { fanout, assets: Assets::from_env().await?, deadline })
}

/// [`init`], for the function that starts jobs: inside Lambda it also
/// needs the parts queue (`HALO_FANOUT_QUEUE_URL`).
pub async fn init_api() -> Result<App, InitError> {
    let app = init().await?;
    let fanout = app.fanout.require_dispatcher()?;
    Ok(App { fanout, ..app })
}

/// The work on one part (the worker's fn): renders it.
pub async fn render_part(part: FanoutPart<Task>) -> Result<Output, halo::Error> {
    let Task { upload, part: which } = part.body;
    let output = render(&upload, which)?;
    tracing::info!(asset_id = %upload.asset_id, part = part.index, "part rendered");
    Ok(output)
}

impl App {
    /// The fan-in: records the asset as ready when every part succeeded,
    /// else as failed with the failed and missing parts. It runs once per
    /// job (a run that dies is run again by the sweeper; the write is
    /// idempotent).
    pub async fn publish(&self, fan_in: FanIn<Upload, Output>) -> Result<(), halo::Error> {
        let ready = fan_in.outcome == JobOutcome::Completed && fan_in.failed.is_empty();
        let (metadata, renditions): (Vec<Output>, Vec<Output>) =
            fan_in.results.into_values().partition(|o| matches!(o, Output::Metadata { .. }));
        let asset = Asset {
            asset_id: fan_in.context.asset_id,
            status: if ready { AssetStatus::Ready } else { AssetStatus::Failed },
            renditions,
            metadata: metadata.into_iter().next(),
            failed_parts: fan_in.failed.into_keys().collect(),
            missing_parts: fan_in.missing,
        };
        self.assets.put(&asset).await?;
        if ready {
            tracing::info!(asset_id = %asset.asset_id, renditions = asset.renditions.len(), "asset ready");
        } else {
            tracing::warn!(asset_id = %asset.asset_id, failed = ?asset.failed_parts, missing = ?asset.missing_parts, outcome = ?fan_in.outcome, "asset failed");
        }
        Ok(())
    }
}
