//! The JSON layer with debug sampling and buffering, through a real
//! subscriber writing to memory.

use tracing_subscriber::layer::SubscriberExt;

use super::{CapturedLines, JsonLayer, flush_debug_buffer};
use crate::Ctx;
use crate::correlation::Correlation;

fn invocation(sampled: bool) -> Ctx {
    let ctx = Ctx::for_test();
    ctx.set_correlation(Correlation { debug: sampled, ..Correlation::new("c-log") });
    ctx
}

#[tokio::test]
async fn unsampled_debug_lines_are_held_back_then_flushed_oldest_dropped_first() {
    let lines = CapturedLines::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(JsonLayer::new(lines.clone())));
    let ctx = invocation(false);
    let pad = "x".repeat(900);
    ctx.clone()
        .scope(async {
            for step in 0..30 {
                tracing::debug!(step, pad, "step");
            }
            tracing::info!("done");
        })
        .await;
    let written = lines.json();
    assert_eq!(written.len(), 1, "only the info line is written: {written:?}");
    assert_eq!(written[0]["message"], "done");
    assert!(written[0].get("sampled").is_none());

    lines.clear();
    ctx.scope(async { flush_debug_buffer() }).await;
    let flushed = lines.json();
    assert_eq!(flushed[0]["level"], "WARN", "one warning about the dropped lines comes first");
    let dropped = flushed[0]["dropped_lines"].as_u64().unwrap() as usize;
    let steps: Vec<u64> = flushed[1..].iter().map(|l| l["step"].as_u64().unwrap()).collect();
    assert_eq!(dropped + steps.len(), 30);
    assert!(steps.len() >= 15, "a 20 KiB buffer holds the newest ~20 lines, got {}", steps.len());
    assert_eq!(steps, ((30 - steps.len() as u64)..30).collect::<Vec<_>>(), "the newest lines, in order");
    assert!(flushed[1..].iter().all(|l| l["level"] == "DEBUG" && l["correlation_id"] == "c-log"));
}

#[tokio::test]
async fn sampled_invocations_write_debug_lines_marked_sampled() {
    let lines = CapturedLines::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(JsonLayer::new(lines.clone())));
    invocation(true).scope(async { tracing::debug!("visible") }).await;
    let written = lines.json();
    assert_eq!(written.len(), 1);
    assert_eq!(written[0]["sampled"], true);
    assert_eq!(written[0]["level"], "DEBUG");
}

#[tokio::test]
async fn debug_lines_outside_an_invocation_follow_the_level_only() {
    let lines = CapturedLines::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(JsonLayer::new(lines.clone())));
    tracing::debug!("init detail");
    flush_debug_buffer();
    assert!(lines.json().is_empty());
}

#[tokio::test]
async fn a_successful_invocation_discards_its_buffer() {
    let lines = CapturedLines::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(JsonLayer::new(lines.clone())));
    invocation(false).scope(async { tracing::debug!("held") }).await;
    // A new invocation flushing finds nothing of the previous one.
    invocation(false).scope(async { flush_debug_buffer() }).await;
    assert!(lines.json().is_empty());
}
