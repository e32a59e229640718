//! reporting: a read-heavy reporting engine on halo.
//!
//! Posts (with their views and likes) are written to one table; its
//! DynamoDB stream feeds `posts-projector`, which keeps three views in the
//! views table with [`halo::projection`]: a summary per author (posts,
//! views, likes), the 100 most viewed posts (a bounded index) and the
//! totals. `posts-api` writes posts and serves the views through
//! [`halo::cache::Cache`], so a hot view is read from DynamoDB once per
//! container and TTL.
//!
//! ```text
//! cargo run -p reporting --bin posts-api -- serve --port 3000
//! cargo run -p reporting --bin posts-projector -- invoke examples/reporting/events/post-changes.json
//! ```

pub mod posts;
pub mod reports;
