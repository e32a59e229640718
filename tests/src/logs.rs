//! halo's JSON log lines of one test, captured in memory.

use halo::log::{CapturedLines, JsonLayer};
use tracing::subscriber::DefaultGuard;
use tracing_subscriber::layer::SubscriberExt as _;

/// Captures the JSON lines halo writes on this thread until the guard is
/// dropped.
///
/// tracing caches, per log call site, whether any subscriber listens: a
/// call site first reached while none does is skipped afterwards for every
/// thread. So in a test binary where one test captures, every test that
/// reaches the same call sites captures too.
pub fn capture() -> (DefaultGuard, CapturedLines) {
    let lines = CapturedLines::default();
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(JsonLayer::new(lines.clone())));
    (guard, lines)
}
