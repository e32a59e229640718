//! posts-projector: the posts table's stream consumer. Applies each change
//! to the reports' views once and in order per post; on a failure it
//! stops and reports that record's sequence number, so Lambda retries from
//! it (bounded by the mapping's `MaximumRetryAttempts`, then the
//! on-failure destination) without replaying the records before it.

use halo::batch::{BatchOptions, BatchResponse, DynamoDbStream};
use halo::projection::Projector;

/// Once per container: the views store (`HALO_VIEWS_TABLE`, required in
/// Lambda; in memory in a local run).
async fn init() -> Result<Projector, halo::Error> {
    Ok(reporting::reports::projector_from_env().await?)
}

#[halo::handler(init = init)]
async fn handler(
    stream: DynamoDbStream,
    _ctx: &halo::Ctx,
    projector: &Projector,
) -> Result<BatchResponse, halo::Error> {
    projector.process(stream, &BatchOptions::default()).await
}
