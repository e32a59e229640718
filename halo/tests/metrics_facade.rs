//! The `metrics` facade crate's macros land in the invocation's EMF lines
//! (feature `metrics-facade`; the recorder is process-wide, so this is a
//! test binary of its own).

use futures_util::FutureExt;
use halo::Ctx;
use halo::log::CapturedLines;
use halo::metrics::{MetricsConfig, MetricsOutput};
use halo_test_support::emf;

#[test]
fn the_metrics_facade_lands_in_the_invocation_s_lines() {
    assert!(halo::metrics::install_recorder());
    let lines = CapturedLines::default();
    let config = MetricsConfig::from_env().namespace("HaloTest").output(MetricsOutput::Captured(lines.clone()));
    let ctx = Ctx::builder("facade-1").build();
    halo::metrics::attach(&ctx, &config).unwrap();
    ctx.clone()
        .scope(async {
            ::metrics::describe_histogram!("latency", ::metrics::Unit::Milliseconds, "request latency");
            ::metrics::counter!("orders").increment(2);
            ::metrics::counter!("orders").increment(1);
            ::metrics::histogram!("latency").record(12.5);
            ::metrics::gauge!("queue_depth").set(7.0);
            ::metrics::gauge!("queue_depth").increment(1.0);
            ::metrics::counter!("by_region", "region" => "eu").increment(1);
        })
        .now_or_never()
        .unwrap();
    halo::metrics::flush(&ctx);
    let emf = emf::validate_lines(&lines.text());
    assert_eq!(emf.len(), 2, "the main set and the labelled set");
    let main = &emf[0];
    assert_eq!(main["orders"], serde_json::json!([2, 1]));
    assert_eq!(main["latency"], 12.5);
    assert_eq!(main["queue_depth"], serde_json::json!([7, 8]));
    let units: Vec<(&str, &str)> = main["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["Name"].as_str().unwrap(), m["Unit"].as_str().unwrap()))
        .collect();
    assert_eq!(units, [("orders", "Count"), ("latency", "Milliseconds"), ("queue_depth", "None")]);
    assert_eq!((emf[1]["region"].as_str(), emf[1]["by_region"].as_f64()), (Some("eu"), Some(1.0)));
}
