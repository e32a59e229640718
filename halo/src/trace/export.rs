//! Where finished spans wait, and how they leave: each invocation's spans
//! are exported when it ends (after its answer is posted, before the next
//! poll), within a time bound, so nothing is held when Lambda freezes the
//! environment and a slow or absent collector costs each invocation at
//! most that bound.

use crate::lock::lock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{Span, SpanData, SpanExporter, SpanProcessor};

/// The most finished spans held between two flushes; more are dropped (and
/// counted in the next export failure line).
const MAX_BUFFERED: usize = 8192;
/// An export failure is logged at most once per this interval.
const FAILURE_LOG_INTERVAL: Duration = Duration::from_secs(60);

/// Finished, sampled spans not yet exported.
#[derive(Debug, Default)]
pub(crate) struct Buffer {
    spans: Mutex<Vec<SpanData>>,
    dropped: AtomicUsize,
}

impl Buffer {
    fn take(&self) -> Vec<SpanData> {
        std::mem::take(&mut *lock(&self.spans))
    }

    fn is_empty(&self) -> bool {
        lock(&self.spans).is_empty()
    }
}

/// The span processor: keeps finished spans in the [`Buffer`].
#[derive(Debug, Clone)]
pub(crate) struct BufferProcessor(pub(crate) Arc<Buffer>);

impl SpanProcessor for BufferProcessor {
    fn on_start(&self, _span: &mut Span, _cx: &Context) {}

    fn on_end(&self, span: SpanData) {
        let mut spans = lock(&self.0.spans);
        if spans.len() < MAX_BUFFERED {
            spans.push(span);
        } else {
            self.0.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _timeout: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// Everything an export needs, set up once per process.
#[derive(Debug)]
pub(crate) struct Pipeline {
    pub(crate) buffer: Arc<Buffer>,
    pub(crate) otlp: Option<opentelemetry_otlp::SpanExporter>,
    pub(crate) stdout: bool,
    pub(crate) timeout: Duration,
    /// One export at a time (an exporter is never called concurrently).
    pub(crate) exporting: tokio::sync::Mutex<()>,
    pub(crate) last_failure_log: Mutex<Option<Instant>>,
    /// Kept alive: dropping the provider would shut its processor down.
    pub(crate) _provider: opentelemetry_sdk::trace::SdkTracerProvider,
}

pub(crate) static PIPELINE: OnceLock<Pipeline> = OnceLock::new();

/// Exports the spans finished so far, within the configured bound
/// (`HALO_TRACE_EXPORT_TIMEOUT_MS`, default 50 ms): what halo does after
/// each invocation has been answered, and at shutdown. A collector that is
/// down or slow never fails anything: the spans are dropped and the
/// failure logged, once a minute at most. Without tracing it does nothing.
pub async fn flush() {
    let Some(pipeline) = PIPELINE.get() else { return };
    if pipeline.buffer.is_empty() {
        return;
    }
    match tokio::time::timeout(pipeline.timeout, pipeline.export()).await {
        Ok(Ok(())) => {}
        Ok(Err(problem)) => pipeline.log_failure(&problem),
        Err(_) => pipeline.log_failure(&format!("no answer within {} ms", pipeline.timeout.as_millis())),
    }
}

impl Pipeline {
    async fn export(&self) -> Result<(), String> {
        let _one_at_a_time = self.exporting.lock().await;
        let batch = self.buffer.take();
        if batch.is_empty() {
            return Ok(());
        }
        if self.stdout {
            super::stdout::print(&batch);
        }
        match &self.otlp {
            Some(otlp) => otlp.export(batch).await.map_err(|err| err.to_string()),
            None => Ok(()),
        }
    }

    fn log_failure(&self, problem: &str) {
        let now = Instant::now();
        {
            let mut last = lock(&self.last_failure_log);
            if last.is_some_and(|at| now.duration_since(at) < FAILURE_LOG_INTERVAL) {
                return;
            }
            *last = Some(now);
        }
        let dropped = self.buffer.dropped.swap(0, Ordering::Relaxed);
        tracing::warn!(
            problem,
            dropped_spans = dropped,
            "spans could not be exported (the collector is down or slow); invocations go on, spans are dropped"
        );
    }
}
