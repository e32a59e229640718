//! Setting up the exporter, the tracer and the `tracing` layer, once per
//! process.

use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_aws::trace::XrayIdGenerator;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider, SpanExporter as _};
use tracing::Subscriber;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{FilterFn, Filtered};
use tracing_subscriber::registry::LookupSpan;

use super::config::TraceConfig;
use super::export::{Buffer, BufferProcessor, PIPELINE, Pipeline};
use crate::FunctionInfo;

/// The `tracing` layer that turns spans into OpenTelemetry spans, and the
/// log lines written inside them into span events (only those written: a
/// held-back debug line is not an event, nor is halo's own signal to write
/// them out).
pub type OtelLayer<S> = Filtered<OpenTelemetryLayer<S, SdkTracer>, FilterFn, S>;

/// Sets tracing up for this process as `config` says and returns the
/// `tracing` layer that turns spans into OpenTelemetry spans (`None` when
/// `config` exports nowhere). [`crate::log::init`] does this for you;
/// call it yourself to add tracing to a subscriber of your own, next to
/// [`crate::log::JsonLayer`]. Once per process: a second call is an error.
///
/// ```no_run
/// use tracing_subscriber::layer::SubscriberExt as _;
///
/// let config = halo::trace::TraceConfig::from_env().endpoint_base("http://localhost:4318");
/// let layer = halo::trace::layer(&config).expect("set up once");
/// let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::stderr()).with(layer);
/// tracing::subscriber::set_global_default(subscriber).unwrap();
/// ```
pub fn layer<S>(config: &TraceConfig) -> Result<Option<OtelLayer<S>>, String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if !config.enabled() {
        return Ok(None);
    }
    let tracer = tracer(config)?;
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false);
    let logged = FilterFn::new(logged as fn(&tracing::Metadata<'_>) -> bool);
    super::ENABLED.store(true, std::sync::atomic::Ordering::SeqCst);
    Ok(Some(layer.with_filter(logged)))
}

/// Whether the OpenTelemetry layer sees it: every span; an event only if
/// it is written as a log line now.
fn logged(meta: &tracing::Metadata<'_>) -> bool {
    !meta.is_event() || (meta.target() != crate::log::FLUSH_TARGET && crate::log::level_passes(meta.level()))
}

/// The tracer: X-Ray-compatible ids, the sampler of `OTEL_TRACES_SAMPLER`,
/// spans buffered for the end of their invocation.
fn tracer(config: &TraceConfig) -> Result<SdkTracer, String> {
    let resource = resource(config);
    let otlp = match config.endpoint_url() {
        Some(url) => {
            let mut exporter = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_endpoint(url)
                .with_protocol(Protocol::HttpBinary)
                .with_timeout(config.flush_bound())
                .build()
                .map_err(|err| format!("the OTLP exporter cannot be built: {err}"))?;
            exporter.set_resource(&resource);
            Some(exporter)
        }
        None => None,
    };
    let buffer = Arc::new(Buffer::default());
    let provider = SdkTracerProvider::builder()
        .with_span_processor(BufferProcessor(Arc::clone(&buffer)))
        .with_id_generator(XrayIdGenerator::default())
        .with_resource(resource)
        .build();
    let tracer = provider.tracer("halo");
    let pipeline = Pipeline {
        buffer,
        otlp,
        stdout: config.prints(),
        timeout: config.flush_bound(),
        exporting: tokio::sync::Mutex::new(()),
        last_failure_log: std::sync::Mutex::new(None),
        _provider: provider,
    };
    PIPELINE.set(pipeline).map_err(|_| "tracing was set up already".to_owned())?;
    Ok(tracer)
}

/// The process's resource: the service, and the function as the FaaS
/// conventions name it.
fn resource(config: &TraceConfig) -> Resource {
    let function = FunctionInfo::shared();
    let mut attributes = vec![
        KeyValue::new("cloud.provider", "aws"),
        KeyValue::new("cloud.platform", "aws_lambda"),
        KeyValue::new("faas.name", function.name.clone()),
        KeyValue::new("faas.version", function.version.clone()),
        KeyValue::new("faas.max_memory", i64::from(function.memory_size) * 1024 * 1024),
        KeyValue::new("telemetry.distro.name", "halo"),
    ];
    if let Some(region) = crate::platform::non_empty_var("AWS_REGION") {
        attributes.push(KeyValue::new("cloud.region", region));
    }
    Resource::builder_empty().with_service_name(config.service_name().to_owned()).with_attributes(attributes).build()
}
