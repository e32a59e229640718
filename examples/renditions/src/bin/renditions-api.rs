//! The assets API: `POST /assets` starts an upload's job (three renditions
//! and the metadata, sent to the parts queue) and answers `202`;
//! `GET /assets/{asset_id}` says whether the asset is ready.
//!
//! In a local run (no `HALO_FANOUT_QUEUE_URL`), the parts wait in memory
//! and the API runs them itself right after the start, as the workers
//! would: one `invoke` shows start → parts → fan-in.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use halo::batch::BatchOptions;
use halo::fanout::NewJob;
use renditions::app::{App, init_api, render_part};
use renditions::asset::{MAX_ASSET_ID, Upload};
use serde_json::{Value, json};

async fn upload(State(app): State<App>, Json(upload): Json<Upload>) -> Result<(StatusCode, Json<Value>), halo::Error> {
    upload.validate()?;
    let job_id = Upload::job_id(&upload.asset_id);
    let job = NewJob::new(&job_id, upload.clone()).deadline(app.deadline);
    let started = app.fanout.start(job, &upload.tasks()).await?;
    tracing::info!(asset_id = %upload.asset_id, job_id = %job_id, started = ?started, "upload accepted");
    if app.fanout.is_local() {
        // A local run: the parts wait in memory; run them here.
        let run = app.fanout.run_local(&BatchOptions::default(), render_part, |f| app.publish(f)).await?;
        tracing::info!(deliveries = run.deliveries, dead_lettered = run.dead_lettered, "local run: parts processed");
    }
    let body = json!({
        "asset_id": upload.asset_id,
        "job_id": job_id,
        "status_url": format!("/assets/{}", upload.asset_id),
    });
    Ok((StatusCode::ACCEPTED, Json(body)))
}

async fn status(State(app): State<App>, Path(asset_id): Path<String>) -> Result<Json<Value>, halo::Error> {
    let valid = !asset_id.is_empty() && asset_id.len() <= MAX_ASSET_ID;
    if !valid || !asset_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(halo::Error::not_found("no such asset"));
    }
    if let Some(asset) = app.assets.get(&asset_id).await? {
        return Ok(Json(json!({ "asset_id": asset_id, "status": asset.status, "asset": asset })));
    }
    match app.fanout.status(&Upload::job_id(&asset_id)).await? {
        Some(job) => Ok(Json(json!({ "asset_id": asset_id, "status": "processing", "job": job }))),
        None => Err(halo::Error::not_found("no such asset")),
    }
}

#[halo::http(init = init_api)]
fn router(app: App) -> Router {
    Router::new().route("/assets", post(upload)).route("/assets/{asset_id}", get(status)).with_state(app)
}
