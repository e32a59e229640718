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

#[tokio::test]
async fn an_over_long_key_is_left_out_not_cut_into_a_duplicate() {
    use super::fields::MAX_KEY_BYTES;

    let lines = CapturedLines::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(JsonLayer::new(lines.clone())));
    let ctx = invocation(false);
    let long = "k".repeat(MAX_KEY_BYTES);
    // Cut to MAX_KEY_BYTES, these two keys would be the same key.
    ctx.append_log_key(format!("{long}1"), 1);
    ctx.append_log_key(format!("{long}2"), 2);
    ctx.append_log_key(long.clone(), 3);
    ctx.scope(async { tracing::info!("keys") }).await;
    let line = &lines.json()[0];
    assert_eq!(line[long.as_str()], 3, "a key of exactly the limit is kept");
    assert!(line.as_object().unwrap().keys().all(|k| k.len() <= MAX_KEY_BYTES));
}

#[tokio::test]
async fn every_line_stays_json_and_under_the_cloudwatch_limit() {
    use super::fields::MAX_LINE_BYTES;
    use super::fields::MAX_VALUE_BYTES;

    let lines = CapturedLines::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(JsonLayer::new(lines.clone())));
    let ctx = invocation(true);
    let huge = "q".repeat(1024 * 1024);
    let escapes = "\"\n\u{1}".repeat(30_000);
    ctx.append_log_key("query", huge.as_str());
    ctx.append_log_key("object", serde_json::json!({ "items": vec![huge.as_str(); 1] }));
    ctx.clone()
        .scope(async {
            tracing::info!(payment_id = huge.as_str(), "one huge field");
            tracing::info!(escapes = escapes.as_str(), "a field that escapes to 6x its size");
            tracing::info!("{huge}");
            let h = huge.as_str();
            tracing::info!(a = h, b = h, c = h, d = ?h, e = %h, f = h, g = h, h, i = h, j = h, k = h, l = h, m = h, n = h, o = h, p = h, q = h, r = h, s = h, "many huge fields");
            let span = tracing::info_span!("outer", body = huge.as_str());
            let _entered = span.enter();
            tracing::info!(small = 1, "inside a span with a huge field");
        })
        .await;
    let text = lines.text();
    let written: Vec<&str> = text.lines().collect();
    assert_eq!(written.len(), 5);
    for line in &written {
        assert!(line.len() < MAX_LINE_BYTES, "{} bytes", line.len());
        let value: serde_json::Value = serde_json::from_str(line).expect("one JSON object");
        assert_eq!(value["correlation_id"], "c-log", "the ids survive every cut");
    }
    let first: serde_json::Value = serde_json::from_str(written[0]).unwrap();
    let payment_id = first["payment_id"].as_str().unwrap();
    assert!(
        payment_id.starts_with("qqqq")
            && payment_id.ends_with(&format!("...[truncated {} bytes]", huge.len() - MAX_VALUE_BYTES))
    );
    assert!(first["query"].as_str().unwrap().contains("...[truncated"), "log keys are cut too");
    assert!(
        first["object"].as_str().unwrap().starts_with("{\"items\":[\"qqq"),
        "a large JSON key becomes a cut string"
    );
    let third: serde_json::Value = serde_json::from_str(written[2]).unwrap();
    assert!(third["message"].as_str().unwrap().len() < MAX_VALUE_BYTES + 64);
    let many: serde_json::Value = serde_json::from_str(written[3]).unwrap();
    assert!(many["log_fields_dropped"].as_u64().unwrap() > 0, "fields that do not fit are counted");
    assert_eq!(
        many["a"].as_str().unwrap().len(),
        MAX_VALUE_BYTES + format!("...[truncated {} bytes]", huge.len() - MAX_VALUE_BYTES).len()
    );
    let spanned: serde_json::Value = serde_json::from_str(written[4]).unwrap();
    assert_eq!(spanned["small"], 1);
    assert!(spanned["body"].as_str().unwrap().ends_with("bytes]"));
}

#[tokio::test]
async fn no_line_has_a_key_twice() {
    let lines = CapturedLines::default();
    let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(JsonLayer::new(lines.clone())));
    let ctx = invocation(false);
    ctx.append_log_key("order_id", "from-key");
    ctx.append_log_key("level", "forged");
    ctx.clone()
        .scope(async {
            let span = tracing::info_span!("outer", order_id = "from-span", step = "book");
            let _entered = span.enter();
            tracing::info!(correlation_id = "forged", order_id = "from-event", step = "", "transition");
            tracing::info!("plain");
        })
        .await;
    // `json` parses strictly: a duplicated key fails it.
    let written = lines.json();
    assert_eq!(written[0]["correlation_id"], "c-log", "halo's own key wins");
    assert_eq!(written[0]["order_id"], "from-event", "the event's field, then the span's, then the log key");
    assert_eq!(written[0]["level"], "INFO");
    assert_eq!(written[1]["order_id"], "from-span");
    assert_eq!(written[1]["step"], "book");
}
