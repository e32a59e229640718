//! The `tracing` layer that writes one JSON object per line.

use std::cell::RefCell;
use std::io::Write;

use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::buffer::DebugBuffer;

/// The target prefix of the AWS durable execution SDK's spans.
const DURABLE_EXECUTION_SDK: &str = "aws_durable_execution_sdk";
use super::fields::{
    FieldVisitor, MAX_KEY_BYTES, MAX_LINE_BYTES, MAX_VALUE_BYTES, Segment, is_reserved, push_bounded_str,
    push_bounded_value,
};
use super::level;
use crate::FunctionInfo;
use crate::context::Ctx;
use crate::json_bytes::push_json_str;

/// A [`Layer`] that renders every event as one JSON line.
///
/// Each line holds `timestamp` (RFC 3339, UTC, milliseconds), `level`,
/// `message`, `service`, `function_name`, `function_version`,
/// `function_memory_size`, `location`; inside an invocation also
/// `function_request_id`, `function_arn`, `cold_start`, `correlation_id`,
/// `xray_trace_id` and the keys added with [`Ctx::append_log_key`]; then the
/// event's own fields and the fields of the spans it is in. The invocation's
/// keys come from the current [`Ctx`], so none of them can outlive it.
///
/// Lines are filtered by the process-wide [`LogSettings::level`](super::LogSettings::level).
/// Inside an invocation, `DEBUG` lines below that level are either written
/// (the invocation is [sampled](crate::Ctx::debug_sampled); its lines then
/// carry `"sampled": true`) or held in the invocation's bounded buffer,
/// written out only if the invocation fails ([`flush_debug_buffer`]) and
/// otherwise dropped with the invocation. Debug lines of the AWS SDK, hyper,
/// rustls, tokio, tower and lambda_runtime are not sampled (they follow the
/// level only).
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let lines = halo::log::CapturedLines::default();
/// let subscriber = tracing_subscriber::registry().with(halo::log::JsonLayer::new(lines.clone()));
/// tracing::subscriber::with_default(subscriber, || tracing::info!(order_id = 42, "charged"));
///
/// let line = &lines.json()[0];
/// assert_eq!(line["message"], "charged");
/// assert_eq!(line["level"], "INFO");
/// assert_eq!(line["order_id"], 42);
/// ```
pub struct JsonLayer<W> {
    make_writer: W,
    /// `,"service":…,"function_name":…,"function_version":…,"function_memory_size":…`
    static_fields: Vec<u8>,
}

impl<W> std::fmt::Debug for JsonLayer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonLayer")
    }
}

impl JsonLayer<fn() -> std::io::Stderr> {
    /// A layer writing to standard error.
    pub fn stderr() -> Self {
        JsonLayer::new(std::io::stderr as fn() -> std::io::Stderr)
    }
}

impl<W> JsonLayer<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// A layer writing each line with one `write_all` to a writer from
    /// `make_writer`, describing the function of this process.
    pub fn new(make_writer: W) -> Self {
        JsonLayer::for_function(make_writer, &FunctionInfo::shared())
    }

    /// A layer describing the given function.
    pub(crate) fn for_function(make_writer: W, function: &FunctionInfo) -> Self {
        let mut static_fields = Vec::with_capacity(128);
        static_fields.extend_from_slice(b",\"service\":");
        push_json_str(&mut static_fields, &function.service);
        static_fields.extend_from_slice(b",\"function_name\":");
        push_json_str(&mut static_fields, &function.name);
        static_fields.extend_from_slice(b",\"function_version\":");
        push_json_str(&mut static_fields, &function.version);
        static_fields.extend_from_slice(b",\"function_memory_size\":");
        static_fields.extend_from_slice(function.memory_size.to_string().as_bytes());
        JsonLayer { make_writer, static_fields }
    }

    /// `{"timestamp":…,"level":…,"message":…` plus the function's and the
    /// current invocation's fields (no closing brace).
    fn write_prefix(&self, line: &mut Vec<u8>, level: &Level, message_json: &[u8]) {
        line.extend_from_slice(b"{\"timestamp\":\"");
        super::timestamp::push_now(line);
        line.extend_from_slice(b"\",\"level\":\"");
        line.extend_from_slice(level_name(level).as_bytes());
        line.extend_from_slice(b"\",\"message\":");
        line.extend_from_slice(message_json);
        line.extend_from_slice(&self.static_fields);
        Ctx::with_current(|ctx| {
            if let Some(ctx) = ctx {
                write_invocation_fields(line, ctx);
            }
        });
        crate::trace::write_ids(line);
    }

    /// Writes out the current invocation's held-back debug lines, after one
    /// warning line when some were dropped. (Rendered here: tracing ignores
    /// events emitted from inside a subscriber.)
    fn flush(&self) {
        let Some(ctx) = Ctx::current() else { return };
        let (lines, dropped) = ctx.with_extension(DebugBuffer::take);
        let mut writer = self.make_writer.make_writer();
        if dropped > 0 {
            let mut warning = Vec::with_capacity(512);
            let message = b"\"the debug buffer was full: its oldest lines were dropped\"";
            self.write_prefix(&mut warning, &Level::WARN, message);
            let _ = writeln!(warning, ",\"dropped_lines\":{dropped}}}");
            let _ = writer.write_all(&warning);
        }
        for line in lines {
            let _ = writer.write_all(&line);
        }
    }

    fn render(
        &self,
        event: &Event<'_>,
        append_spans: impl FnOnce(&mut Vec<u8>, &mut Vec<Segment>) -> usize,
        out: &mut Buffers,
    ) {
        let meta = event.metadata();
        let mut visitor = FieldVisitor::new(
            &mut out.fields,
            Some(&mut out.message),
            &mut out.scratch,
            EVENT_FIELDS_LIMIT,
            &mut out.names,
        );
        event.record(&mut visitor);
        let mut dropped = visitor.dropped();

        let line = &mut out.line;
        let message: &[u8] = if out.message.is_empty() { b"\"\"" } else { &out.message };
        self.write_prefix(line, meta.level(), message);
        line.extend_from_slice(b",\"location\":\"");
        line.extend_from_slice(meta.module_path().unwrap_or_else(|| meta.target()).as_bytes());
        if let Some(n) = meta.line() {
            let _ = write!(line, ":{n}");
        }
        line.push(b'"');
        if line.len() + out.fields.len() <= LINE_CONTENT_LIMIT {
            line.extend_from_slice(&out.fields);
        } else {
            dropped += 1;
        }
        dropped += append_spans(line, &mut out.names);
        let names = &out.names;
        Ctx::with_current(|ctx| {
            if let Some(ctx) = ctx {
                write_log_keys(line, ctx, names);
            }
        });
        if dropped > 0 {
            let _ = write!(line, ",\"log_fields_dropped\":{dropped}");
        }
        line.extend_from_slice(b"}\n");
        if line.len() > MAX_LINE_BYTES {
            let original = line.len();
            line.clear();
            self.write_minimal(line, meta, &out.message, original);
        }
    }

    /// The line written instead of one that would be over
    /// [`MAX_LINE_BYTES`] (its parts are bounded, but many long invocation
    /// keys can still add up): the level, the message cut short, the
    /// function's and the invocation's ids, and the size of what was left
    /// out.
    fn write_minimal(&self, line: &mut Vec<u8>, meta: &Metadata<'_>, message: &[u8], original: usize) {
        line.extend_from_slice(b"{\"timestamp\":\"");
        super::timestamp::push_now(line);
        line.extend_from_slice(b"\",\"level\":\"");
        line.extend_from_slice(level_name(meta.level()).as_bytes());
        line.extend_from_slice(b"\",\"message\":");
        let text: String = serde_json::from_slice(message).unwrap_or_default();
        push_bounded_str(line, &text, 1024);
        line.extend_from_slice(&self.static_fields);
        Ctx::with_current(|ctx| {
            if let Some(ctx) = ctx {
                line.extend_from_slice(b",\"function_request_id\":");
                push_bounded_str(line, ctx.request_id(), 256);
                if let Some(id) = ctx.correlation_id() {
                    line.extend_from_slice(b",\"correlation_id\":");
                    push_json_str(line, id);
                }
            }
        });
        let _ = writeln!(line, ",\"log_line_truncated\":true,\"original_bytes\":{original}}}");
    }
}

/// Room for the event's own fields in a line.
const EVENT_FIELDS_LIMIT: usize = 128 * 1024;

/// Room for one span's fields.
const SPAN_FIELDS_LIMIT: usize = 32 * 1024;

/// Room for the keys added with `append_log_key`.
const LOG_KEYS_LIMIT: usize = 32 * 1024;

/// What a line's content may fill, leaving room for the closing part.
const LINE_CONTENT_LIMIT: usize = MAX_LINE_BYTES - 64;

/// The target of the event that asks [`JsonLayer`] to write out the current
/// invocation's buffered debug lines.
pub(crate) const FLUSH_TARGET: &str = "halo::log::flush";

/// Writes out the debug lines the current invocation held back (see
/// [`JsonLayer`]); halo calls this when an invocation fails. Does nothing
/// outside an invocation or when nothing was held back.
pub fn flush_debug_buffer() {
    tracing::event!(target: FLUSH_TARGET, Level::ERROR, "flush buffered debug lines");
}

/// Crates whose debug lines follow the level only, never sampling: they are
/// too chatty to buffer per invocation.
const UNSAMPLED_TARGETS: [&str; 9] =
    ["aws_", "hyper", "h2", "rustls", "tower", "lambda_runtime", "reqwest", "tokio", "mio"];

fn samplable(meta: &Metadata<'_>) -> bool {
    *meta.level() == Level::DEBUG && !UNSAMPLED_TARGETS.iter().any(|t| meta.target().starts_with(t))
}

fn write_invocation_fields(line: &mut Vec<u8>, ctx: &Ctx) {
    line.extend_from_slice(b",\"function_request_id\":");
    push_json_str(line, ctx.request_id());
    if !ctx.invoked_function_arn().is_empty() {
        line.extend_from_slice(b",\"function_arn\":");
        push_json_str(line, ctx.invoked_function_arn());
    }
    line.extend_from_slice(if ctx.cold_start() { b",\"cold_start\":true" } else { b",\"cold_start\":false" });
    if let Some(correlation) = ctx.correlation() {
        line.extend_from_slice(b",\"correlation_id\":");
        push_json_str(line, &correlation.id);
        if correlation.debug {
            line.extend_from_slice(b",\"sampled\":true");
        }
        if let Some(caller) = &correlation.caller {
            line.extend_from_slice(b",\"caller\":");
            push_json_str(line, caller);
        }
    }
    if let Some(id) = ctx.xray_trace_id() {
        line.extend_from_slice(b",\"xray_trace_id\":");
        push_json_str(line, id);
    }
}

/// The keys added with `append_log_key`, last on the line, each unless a
/// key of that name is already on it or it is longer than
/// [`MAX_KEY_BYTES`].
fn write_log_keys(line: &mut Vec<u8>, ctx: &Ctx, written: &[Segment]) {
    let start = line.len();
    ctx.visit_log_keys(|key, value| {
        if is_reserved(key)
            || key.len() > MAX_KEY_BYTES
            || written.iter().any(|s| s.name == key)
            || line.len() - start > LOG_KEYS_LIMIT
        {
            return;
        }
        let before = line.len();
        line.push(b',');
        push_json_str(line, key);
        line.push(b':');
        push_bounded_value(line, value, MAX_VALUE_BYTES);
        if line.len() - start > LOG_KEYS_LIMIT {
            line.truncate(before);
        }
    });
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// The fields of a span, already rendered as `,"key":value` pairs, and
/// where each one is.
#[derive(Default)]
struct SpanFields {
    bytes: Vec<u8>,
    segments: Vec<Segment>,
}

impl SpanFields {
    fn record(&mut self, values: &dyn RecordFields) {
        let mut scratch = String::new();
        values.record_into(&mut FieldVisitor::new(
            &mut self.bytes,
            None,
            &mut scratch,
            SPAN_FIELDS_LIMIT,
            &mut self.segments,
        ));
    }

    /// Appends the fields whose names are not on the line yet.
    fn append_to(&self, line: &mut Vec<u8>, names: &mut Vec<Segment>) -> usize {
        let mut dropped = 0;
        for segment in &self.segments {
            if names.iter().any(|s| s.name == segment.name) {
                continue;
            }
            if line.len() + (segment.end - segment.start) > LINE_CONTENT_LIMIT {
                dropped += 1;
                continue;
            }
            line.extend_from_slice(&self.bytes[segment.start..segment.end]);
            names.push(Segment { name: segment.name, start: 0, end: 0 });
        }
        dropped
    }
}

/// What a span's fields come in: its attributes, or a later record.
trait RecordFields {
    fn record_into(&self, visitor: &mut FieldVisitor<'_>);
}

impl RecordFields for Attributes<'_> {
    fn record_into(&self, visitor: &mut FieldVisitor<'_>) {
        self.record(visitor);
    }
}

impl RecordFields for Record<'_> {
    fn record_into(&self, visitor: &mut FieldVisitor<'_>) {
        self.record(visitor);
    }
}

#[derive(Default)]
struct Buffers {
    line: Vec<u8>,
    message: Vec<u8>,
    fields: Vec<u8>,
    scratch: String,
    names: Vec<Segment>,
}

impl Buffers {
    fn clear(&mut self) {
        const KEEP: usize = 64 * 1024;
        for buf in [&mut self.line, &mut self.message, &mut self.fields] {
            buf.clear();
            if buf.capacity() > KEEP {
                buf.shrink_to(KEEP);
            }
        }
        self.scratch.clear();
        self.names.clear();
    }
}

thread_local! {
    static BUFFERS: RefCell<Buffers> = RefCell::new(Buffers::default());
}

/// Runs `f` with this thread's reusable buffers (fresh ones if a log line is
/// written while another is being rendered, e.g. from a `Debug` impl).
fn with_buffers(f: impl FnOnce(&mut Buffers)) {
    BUFFERS.with(|cell| {
        let mut fresh;
        let mut guard;
        let buffers: &mut Buffers = match cell.try_borrow_mut() {
            Ok(borrowed) => {
                guard = borrowed;
                &mut guard
            }
            Err(_) => {
                fresh = Buffers::default();
                &mut fresh
            }
        };
        buffers.clear();
        f(buffers);
    });
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        if meta.is_span() && meta.target() == crate::trace::TARGET {
            // halo's spans exist when tracing is on, whatever the log level.
            Interest::sometimes()
        } else if level::passes(meta.level()) {
            Interest::always()
        } else if samplable(meta) {
            Interest::sometimes()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        if meta.is_span() && meta.target() == crate::trace::TARGET {
            return crate::trace::enabled();
        }
        level::passes(meta.level()) || (samplable(meta) && Ctx::with_current(|ctx| ctx.is_some()))
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(level::level().max(LevelFilter::DEBUG))
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        // The fields of halo's own spans are trace attributes, not log
        // fields; the durable execution SDK's repeat halo's keys (the
        // execution's ARN, the request id) beside a replay flag that goes
        // stale between its operations.
        let target = attrs.metadata().target();
        if target == crate::trace::TARGET || target.starts_with(DURABLE_EXECUTION_SDK) {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        fields.record(attrs);
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            fields.record(values);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if meta.target() == FLUSH_TARGET {
            self.flush();
            return;
        }
        // A durable execution's replayed code wrote its lines when it
        // first ran.
        if Ctx::with_current(|ctx| ctx.is_some_and(Ctx::is_replaying)) {
            return;
        }
        let passes = level::passes(meta.level());
        let held_back = !passes && Ctx::with_current(|ctx| ctx.is_some_and(|ctx| !ctx.debug_sampled()));
        with_buffers(|buffers| {
            let append_spans = |line: &mut Vec<u8>, names: &mut Vec<Segment>| {
                let mut dropped = 0;
                if let Some(scope) = ctx.event_scope(event) {
                    for span in scope.from_root() {
                        if let Some(fields) = span.extensions().get::<SpanFields>() {
                            dropped += fields.append_to(line, names);
                        }
                    }
                }
                dropped
            };
            self.render(event, append_spans, buffers);
            if held_back {
                Ctx::with_current(|ctx| {
                    if let Some(ctx) = ctx {
                        ctx.with_extension(|buffer: &mut DebugBuffer| buffer.push(&buffers.line));
                    }
                });
            } else {
                let _ = self.make_writer.make_writer_for(meta).write_all(&buffers.line);
            }
        });
    }
}
