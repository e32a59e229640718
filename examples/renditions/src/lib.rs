//! renditions: the serverless patterns catalog's digital-asset pipeline
//! as a fan-out / fan-in on halo (`halo::fanout`).
//!
//! An upload (`POST /assets`) starts a job of four parts: three renditions
//! (320, 960 and 1920 pixels wide) and the metadata. Workers on the parts
//! queue render them in parallel; the worker whose part completes the job
//! runs the fan-in, which marks the asset ready (or failed) exactly once.
//! A part whose message exhausts its deliveries reaches the dead-letter
//! queue, whose handler records it as failed; a scheduled sweeper ends
//! jobs past their deadline. `GET /assets/{id}` answers "is it ready?".
//!
//! - [`asset`]: the upload, the parts and their outputs, the rendering
//!   (a deterministic stand-in, see [`asset::render`]);
//! - [`assets`]: where finished assets are recorded;
//! - [`app`]: what every binary builds once per container, and the fan-in.

pub mod app;
pub mod asset;
pub mod assets;
