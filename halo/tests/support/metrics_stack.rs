//! The full stack with metrics captured in memory, shared by the metrics
//! test binaries.

use std::time::Duration;

use halo::log::CapturedLines;
use halo::metrics::{MetricsConfig, MetricsOutput};
use halo::{Ctx, Error, Invocation, Options};
use halo_test_support::emf;
use serde_json::Value;
use tower::{Service, ServiceExt};

/// Options whose metrics (namespace `HaloTest`, service `metrics-test`)
/// go to `lines`, with a 100 ms timeout margin.
pub(crate) fn options(lines: &CapturedLines) -> Options {
    Options::from_env().timeout_margin(Duration::from_millis(100)).metrics(
        MetricsConfig::from_env()
            .namespace("HaloTest")
            .service("metrics-test")
            .output(MetricsOutput::Captured(lines.clone())),
    )
}

/// Runs `event` through the full stack with `request_id` and a deadline
/// `timeout` away.
pub(crate) async fn invoke(
    service: &halo::InvocationService,
    request_id: &str,
    event: &str,
    timeout: Duration,
) -> Result<Value, Error> {
    let ctx = Ctx::builder(request_id).timeout(timeout).timeout_margin(Duration::from_millis(100)).build();
    let mut service = service.clone();
    let call = service.ready().await.unwrap().call(Invocation::new(event, ctx));
    call.await.map(|raw| serde_json::from_str(raw.get()).unwrap())
}

/// Every EMF line captured, each checked.
pub(crate) fn emf_lines(lines: &CapturedLines) -> Vec<Value> {
    emf::validate_lines(&lines.text())
}
