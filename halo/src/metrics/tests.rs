use serde_json::Value;

use super::*;
use crate::Ctx;
use crate::log::CapturedLines;

/// A context whose metrics go to memory, in namespace `Test`.
fn captured() -> (Ctx, CapturedLines) {
    let lines = CapturedLines::default();
    let config =
        MetricsConfig::from_env().namespace("Test").service("svc").output(MetricsOutput::Captured(lines.clone()));
    let ctx = Ctx::for_test();
    attach(&ctx, &config).unwrap();
    (ctx, lines)
}

fn directive(line: &Value) -> &Value {
    &line["_aws"]["CloudWatchMetrics"][0]
}

fn names(line: &Value) -> Vec<String> {
    directive(line)["Metrics"].as_array().unwrap().iter().map(|m| m["Name"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn one_line_with_metrics_dimensions_metadata_and_ids() {
    let (ctx, lines) = captured();
    ctx.set_correlation_id("corr-1");
    let metrics = Metrics::of(&ctx);
    metrics.add_metric("Orders", Unit::Count, 1.0).unwrap();
    metrics.add_metric("Orders", Unit::Count, 2.0).unwrap();
    metrics.add_metric_with_resolution("Latency", Unit::Milliseconds, Resolution::High, 3.25).unwrap();
    metrics.add_dimension("tier", "gold").unwrap();
    metrics.add_metadata("order_id", "o-1").unwrap();
    flush(&ctx);
    let emf = lines.json();
    assert_eq!(emf.len(), 1);
    let line = &emf[0];
    assert_eq!(directive(line)["Namespace"], "Test");
    assert_eq!(directive(line)["Dimensions"], serde_json::json!([["service", "tier"]]));
    assert_eq!(directive(line)["Metrics"][0], serde_json::json!({"Name": "Orders", "Unit": "Count"}));
    assert_eq!(
        directive(line)["Metrics"][1],
        serde_json::json!({"Name": "Latency", "Unit": "Milliseconds", "StorageResolution": 1})
    );
    assert_eq!(line["Orders"], serde_json::json!([1, 2]));
    assert_eq!(line["Latency"], 3.25);
    assert_eq!((line["service"].as_str(), line["tier"].as_str()), (Some("svc"), Some("gold")));
    assert_eq!(line["order_id"], "o-1");
    assert_eq!(line["function_request_id"], "test-request");
    assert_eq!(line["correlation_id"], "corr-1");
    assert!(line["_aws"]["Timestamp"].as_u64().unwrap() > 1_600_000_000_000);
}

#[test]
fn nothing_added_writes_nothing_and_a_flush_empties_the_sets() {
    let (ctx, lines) = captured();
    flush(&ctx);
    assert!(lines.text().is_empty());
    Metrics::of(&ctx).add_metric("A", Unit::Count, 1.0).unwrap();
    flush(&ctx);
    flush(&ctx);
    assert_eq!(lines.json().len(), 1);
}

#[test]
fn the_101st_metric_starts_a_new_line() {
    let (ctx, lines) = captured();
    let metrics = Metrics::of(&ctx);
    for i in 0..101 {
        metrics.add_metric(&format!("m{i}"), Unit::Count, 1.0).unwrap();
    }
    flush(&ctx);
    let emf = lines.json();
    assert_eq!(emf.len(), 2);
    assert_eq!(names(&emf[0]).len(), 100);
    assert_eq!(names(&emf[1]), ["m100"]);
    assert_eq!(emf[1]["service"], "svc", "the dimensions are on every line");
}

#[test]
fn the_101st_value_starts_a_new_line() {
    let (ctx, lines) = captured();
    let metrics = Metrics::of(&ctx);
    for i in 0..101 {
        metrics.add_metric("Latency", Unit::Milliseconds, f64::from(i)).unwrap();
    }
    flush(&ctx);
    let emf = lines.json();
    assert_eq!(emf.len(), 2);
    assert_eq!(emf[0]["Latency"].as_array().unwrap().len(), 100);
    assert_eq!(emf[1]["Latency"], 100);
}

#[test]
fn the_31st_dimension_is_refused_and_the_set_keeps_30() {
    let (ctx, lines) = captured();
    let metrics = Metrics::of(&ctx);
    // `service` is the first.
    for i in 0..29 {
        metrics.add_dimension(&format!("d{i}"), "v").unwrap();
    }
    assert_eq!(metrics.add_dimension("d29", "v"), Err(MetricsError::TooManyDimensions { max: 30 }));
    let too_many: Vec<(String, &str)> = (0..30).map(|i| (format!("e{i}"), "v")).collect();
    let pairs: Vec<(&str, &str)> = too_many.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    assert!(matches!(metrics.add_dimension_set(&pairs), Err(MetricsError::TooManyDimensions { .. })));
    metrics.add_metric("A", Unit::Count, 1.0).unwrap();
    flush(&ctx);
    let emf = lines.json();
    assert_eq!(directive(&emf[0])["Dimensions"].as_array().unwrap().len(), 1);
    assert_eq!(directive(&emf[0])["Dimensions"][0].as_array().unwrap().len(), 30);
}

#[test]
fn invalid_input_is_an_error_and_nothing_else_is_lost() {
    let (ctx, lines) = captured();
    let metrics = Metrics::of(&ctx);
    metrics.add_metric("Kept", Unit::Count, 1.0).unwrap();
    assert!(matches!(metrics.add_metric("", Unit::Count, 1.0), Err(MetricsError::EmptyName { .. })));
    assert!(matches!(metrics.add_metric(&"n".repeat(256), Unit::Count, 1.0), Err(MetricsError::TooLong { .. })));
    assert!(matches!(metrics.add_metric("Nan", Unit::Count, f64::NAN), Err(MetricsError::NotFinite { .. })));
    assert!(matches!(metrics.add_metric("Inf", Unit::Count, f64::INFINITY), Err(MetricsError::NotFinite { .. })));
    assert!(matches!(metrics.add_dimension("tier", ""), Err(MetricsError::EmptyName { .. })));
    assert!(matches!(metrics.add_dimension("tier", "gold\n"), Err(MetricsError::InvalidCharacters { .. })));
    assert!(matches!(metrics.add_metric("Kept", Unit::Seconds, 1.0), Err(MetricsError::DefinitionConflict { .. })));
    assert!(matches!(metrics.add_dimension("Kept", "x"), Err(MetricsError::KeyConflict { .. })));
    assert!(matches!(metrics.add_metadata("_aws", 1), Err(MetricsError::KeyConflict { .. })));
    assert!(matches!(metrics.add_metadata("service", 1), Err(MetricsError::KeyConflict { .. })));
    metrics.add_dimension("tier", "gold").unwrap();
    assert!(matches!(metrics.add_dimension("tier", "silver"), Err(MetricsError::DimensionConflict { .. })));
    assert!(matches!(metrics.namespace("bad{ns}"), Err(MetricsError::InvalidNamespace)));
    flush(&ctx);
    let emf = lines.json();
    assert_eq!(emf.len(), 1);
    assert_eq!((emf[0]["Kept"].as_f64(), emf[0]["tier"].as_str()), (Some(1.0), Some("gold")));
}

#[test]
fn several_dimension_sets_share_the_first_set_s_dimensions() {
    let (ctx, lines) = captured();
    let metrics = Metrics::of(&ctx);
    metrics.add_dimension("tier", "gold").unwrap();
    metrics.add_dimension_set(&[("region", "eu-west-1")]).unwrap();
    metrics.add_dimension_set(&[("region", "eu-west-1"), ("channel", "web")]).unwrap();
    metrics.add_dimension_set(&[("region", "eu-west-1")]).unwrap();
    metrics.add_metric("Orders", Unit::Count, 1.0).unwrap();
    flush(&ctx);
    let line = &lines.json()[0];
    assert_eq!(
        directive(line)["Dimensions"],
        serde_json::json!([
            ["service", "tier"],
            ["service", "tier", "region"],
            ["service", "tier", "region", "channel"]
        ])
    );
    assert_eq!((line["region"].as_str(), line["channel"].as_str()), (Some("eu-west-1"), Some("web")));
}

#[test]
fn other_namespaces_and_dimension_sets_are_lines_of_their_own() {
    let (ctx, lines) = captured();
    let main = Metrics::of(&ctx);
    main.add_metric("Orders", Unit::Count, 1.0).unwrap();
    main.namespace("Billing").unwrap().add_metric("Charged", Unit::Count, 1.0).unwrap();
    let record_a = main.with_dimensions(&[("queue", "a")]).unwrap();
    let record_b = main.with_dimensions(&[("queue", "b")]).unwrap();
    record_a.add_metric("Handled", Unit::Count, 1.0).unwrap();
    record_b.add_metric("Handled", Unit::Count, 1.0).unwrap();
    main.with_dimensions(&[("queue", "a")]).unwrap().add_metric("Handled", Unit::Count, 1.0).unwrap();
    flush(&ctx);
    let emf = lines.json();
    assert_eq!(emf.len(), 4);
    assert_eq!(directive(&emf[1])["Namespace"], "Billing");
    assert_eq!(emf[1]["Charged"], 1);
    assert!(emf[1].get("Orders").is_none());
    assert_eq!((emf[2]["queue"].as_str(), &emf[2]["Handled"]), (Some("a"), &serde_json::json!([1, 1])));
    assert_eq!((emf[3]["queue"].as_str(), &emf[3]["Handled"]), (Some("b"), &serde_json::json!(1)));
}

#[test]
fn batch_records_add_to_their_invocation_s_sets() {
    let (ctx, lines) = captured();
    let record = ctx.for_record();
    Metrics::of(&record).add_metric("Handled", Unit::Count, 1.0).unwrap();
    record.clone().scope(async { add_metric("Handled", Unit::Count, 1.0).unwrap() }).now_or_never_helper();
    flush(&ctx);
    assert_eq!(lines.json()[0]["Handled"], serde_json::json!([1, 1]));
}

#[test]
fn the_cold_start_metric_is_a_line_of_its_own() {
    let lines = CapturedLines::default();
    let config =
        MetricsConfig::from_env().namespace("Test").service("svc").output(MetricsOutput::Captured(lines.clone()));
    let ctx =
        Ctx::builder("r-1").function(std::sync::Arc::new(crate::FunctionInfo::for_test())).cold_start(true).build();
    attach(&ctx, &config).unwrap();
    Metrics::of(&ctx).add_metric("Orders", Unit::Count, 1.0).unwrap();
    Metrics::of(&ctx).add_dimension("tier", "gold").unwrap();
    flush(&ctx);
    let emf = lines.json();
    assert_eq!(emf.len(), 2);
    assert_eq!(emf[0]["ColdStart"], 1);
    assert_eq!(directive(&emf[0])["Dimensions"], serde_json::json!([["function_name", "service"]]));
    assert_eq!(emf[0]["function_name"], "test-function");
    assert!(emf[0].get("tier").is_none() && emf[0].get("Orders").is_none());
    assert!(emf[1].get("ColdStart").is_none());
}

#[test]
fn off_validates_but_writes_nothing() {
    let lines = CapturedLines::default();
    let config =
        MetricsConfig::from_env().namespace("Test").disabled(true).output(MetricsOutput::Captured(lines.clone()));
    let ctx = Ctx::for_test();
    attach(&ctx, &config).unwrap();
    Metrics::of(&ctx).add_metric("A", Unit::Count, 1.0).unwrap();
    assert!(Metrics::of(&ctx).add_metric("", Unit::Count, 1.0).is_err());
    flush(&ctx);
    assert!(lines.text().is_empty());
}

#[test]
fn a_line_stays_under_the_event_limit_whatever_is_added() {
    let (ctx, lines) = captured();
    let metrics = Metrics::of(&ctx);
    for i in 0..20 {
        metrics.add_dimension_set(&[(&format!("d{i}"), &"v".repeat(1024))]).unwrap();
    }
    let mut refused = 0;
    for i in 0..200 {
        if metrics.add_metadata(&format!("k{i}"), "x".repeat(20_000)).is_err() {
            refused += 1;
        }
    }
    assert!(refused > 0, "metadata beyond the budget is refused");
    for i in 0..250 {
        for _ in 0..120 {
            metrics
                .add_metric(&format!("metric-{i}-{}", "n".repeat(200)), Unit::Count, 1.234_567_890_123e-300)
                .unwrap();
        }
    }
    flush(&ctx);
    let text = lines.text();
    assert!(text.lines().count() > 250);
    for line in text.lines() {
        assert!(line.len() < 256 * 1024, "{} bytes", line.len());
        crate::log::CapturedLines::parse_line(line).unwrap();
    }
}

#[test]
fn whole_numbers_are_written_without_a_fraction() {
    let (ctx, lines) = captured();
    let metrics = Metrics::of(&ctx);
    metrics.add_metric("A", Unit::Count, 3.0).unwrap();
    metrics.add_metric("B", Unit::Count, -0.0).unwrap();
    metrics.add_metric("C", Unit::Count, 1e300).unwrap();
    metrics.add_metric("D", Unit::Count, 0.1).unwrap();
    flush(&ctx);
    let text = lines.text();
    assert!(text.contains(r#""A":3,"B":0,"C":1e+300,"D":0.1"#), "{text}");
}

/// Polls a future that never waits.
trait NowOrNever: std::future::Future + Sized {
    fn now_or_never_helper(self) -> Self::Output {
        futures_util::FutureExt::now_or_never(self).expect("ready")
    }
}

impl<F: std::future::Future> NowOrNever for F {}
