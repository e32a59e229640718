//! Metrics through halo's full stack: every line written is checked
//! against the EMF schema and CloudWatch's rules
//! (`halo_test_support::emf`); the flush happens however the invocation
//! ends; halo's builtin metrics count what its features decide; the
//! `metrics` facade lands in the same lines; overlapping invocations each
//! write exactly their own metrics.

use std::time::Duration;

use futures_util::FutureExt;
use halo::log::CapturedLines;
use halo::metrics::{self, Unit};
use halo::test_support::HandlerService;
use halo::{Ctx, Error};

#[path = "support/metrics_stack.rs"]
mod metrics_stack;
use metrics_stack::{emf_lines, invoke, options};

#[derive(serde::Deserialize)]
struct Work {
    mode: String,
    #[serde(default)]
    tag: String,
}

/// Adds `Work` = 1 and `tag` as metadata, then behaves as `mode` says.
async fn work(event: Work, _ctx: &Ctx) -> Result<String, Error> {
    metrics::add_metric("Work", Unit::Count, 1.0)?;
    metrics::add_metadata("tag", event.tag.as_str())?;
    match event.mode.as_str() {
        "error" => Err(Error::unprocessable("no")),
        "sleep" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok("slept".into())
        }
        "panic" => panic!("the handler panicked"),
        "yield" => {
            // Overlap with the other invocations before adding again.
            tokio::time::sleep(Duration::from_millis(5)).await;
            metrics::add_metric("Work", Unit::Count, 1.0)?;
            Ok("yielded".into())
        }
        _ => Ok("done".into()),
    }
}

#[tokio::test]
async fn metrics_are_written_however_the_invocation_ends() {
    let lines = CapturedLines::default();
    let service = halo::test_support::stack(HandlerService::new(work), &options(&lines));
    let long = Duration::from_secs(3);
    assert!(invoke(&service, "r-ok", r#"{"mode":"ok","tag":"ok"}"#, long).await.is_ok());
    assert_eq!(invoke(&service, "r-error", r#"{"mode":"error","tag":"error"}"#, long).await.unwrap_err().status(), 422);
    let timed_out = invoke(&service, "r-timeout", r#"{"mode":"sleep","tag":"timeout"}"#, Duration::from_millis(400));
    assert_eq!(timed_out.await.unwrap_err().code(), "Timeout");
    let panicked = std::panic::AssertUnwindSafe(invoke(&service, "r-panic", r#"{"mode":"panic","tag":"panic"}"#, long));
    assert_eq!(panicked.catch_unwind().await.expect("the stack catches it").unwrap_err().status(), 500);

    let emf = emf_lines(&lines);
    let by_request: Vec<(&str, &str, f64)> = emf
        .iter()
        .map(|l| (l["function_request_id"].as_str().unwrap(), l["tag"].as_str().unwrap(), l["Work"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        by_request,
        [("r-ok", "ok", 1.0), ("r-error", "error", 1.0), ("r-timeout", "timeout", 1.0), ("r-panic", "panic", 1.0)]
    );
    for line in &emf {
        assert_eq!(line["_aws"]["CloudWatchMetrics"][0]["Namespace"], "HaloTest");
        assert_eq!(line["service"], "metrics-test");
    }
}

#[test]
fn overlapping_invocations_each_write_exactly_their_own_metrics() {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().unwrap();
    let lines = CapturedLines::default();
    let service = halo::test_support::stack(HandlerService::new(work), &options(&lines));
    runtime.block_on(async {
        let calls = (0..64).map(|i| {
            let service = service.clone();
            tokio::spawn(async move {
                let event = format!(r#"{{"mode":"yield","tag":"t-{i}"}}"#);
                invoke(&service, &format!("r-{i}"), &event, Duration::from_secs(5)).await.unwrap();
            })
        });
        for call in futures_util::future::join_all(calls).await {
            call.unwrap();
        }
    });
    let emf = emf_lines(&lines);
    assert_eq!(emf.len(), 64, "one line per invocation");
    let mut seen: Vec<String> = emf
        .iter()
        .map(|line| {
            let request = line["function_request_id"].as_str().unwrap();
            assert_eq!(
                line["tag"].as_str().unwrap(),
                request.replace("r-", "t-"),
                "the line holds its own invocation's metadata"
            );
            assert_eq!(line["Work"], serde_json::json!([1, 1]), "both of its values, and only those");
            request.to_owned()
        })
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 64);
}
