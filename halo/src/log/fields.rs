//! Rendering `tracing` field values as JSON, within bounds: a string value
//! longer than [`MAX_VALUE_BYTES`] is cut and ends with a marker, and a
//! field that would take its buffer over its limit is left out (and
//! counted), so every line stays one JSON object under CloudWatch Logs'
//! 256 KB event limit.

use crate::json_bytes::push_json_str;
use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

/// The longest string value (before JSON escaping) a log line carries; a
/// longer one is cut at a character boundary and ends with
/// `...[truncated N bytes]`.
pub(crate) const MAX_VALUE_BYTES: usize = 8 * 1024;

/// The longest key (field name or log key) a log line carries. A longer
/// key is left out rather than cut: two long keys cut to the same prefix
/// would put one key on a line twice.
pub(crate) const MAX_KEY_BYTES: usize = 256;

/// The longest log line halo writes. CloudWatch Logs cuts events at
/// 256 KB (262,144 bytes), and a cut line is no longer JSON.
pub(crate) const MAX_LINE_BYTES: usize = 240 * 1024;

/// Appends `value` as a JSON string of at most `max` bytes before escaping
/// (plus the truncation marker).
pub(crate) fn push_bounded_str(out: &mut Vec<u8>, value: &str, max: usize) {
    if value.len() <= max {
        return push_json_str(out, value);
    }
    let mut cut = max;
    while !value.is_char_boundary(cut) {
        cut -= 1;
    }
    out.push(b'"');
    // The prefix, escaped, without its quotes.
    let start = out.len();
    push_json_str(out, &value[..cut]);
    out.remove(start);
    out.pop();
    let _ = write!(VecWriter(out), "...[truncated {} bytes]\"", value.len() - cut);
}

/// Appends a JSON value, as itself when it renders within `max` bytes, else
/// as a string of its rendering, cut (see [`push_bounded_str`]).
pub(crate) fn push_bounded_value(out: &mut Vec<u8>, value: &serde_json::Value, max: usize) {
    let start = out.len();
    let _ = serde_json::to_writer(&mut *out, value);
    if out.len() - start > max {
        let rendered = String::from_utf8_lossy(&out[start..]).into_owned();
        out.truncate(start);
        push_bounded_str(out, &rendered, max);
    }
}

struct VecWriter<'a>(&'a mut Vec<u8>);

impl fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// The keys halo writes itself on a line; a field or log key of the same
/// name is left out, so no line has a key twice.
pub(crate) fn is_reserved(name: &str) -> bool {
    matches!(
        name,
        "timestamp"
            | "level"
            | "message"
            | "service"
            | "function_name"
            | "function_version"
            | "function_memory_size"
            | "function_request_id"
            | "function_arn"
            | "cold_start"
            | "correlation_id"
            | "sampled"
            | "caller"
            | "xray_trace_id"
            | "location"
            | "log_fields_dropped"
            | "trace_id"
            | "span_id"
    )
}

/// One rendered field of a span: its name and where it is in the span's
/// rendered bytes.
pub(crate) struct Segment {
    pub(crate) name: &'static str,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// Appends every field as `,"name":value`; the `message` field goes to its
/// own buffer (as a JSON string) when one is given. String values are
/// bounded by [`MAX_VALUE_BYTES`]; a field that would take `out` past
/// `limit` bytes is left out and counted in [`FieldVisitor::dropped`]. A
/// field named like one of halo's own keys, or like a field already
/// written (in `names`), is left out.
pub(crate) struct FieldVisitor<'a> {
    out: &'a mut Vec<u8>,
    message: Option<&'a mut Vec<u8>>,
    scratch: &'a mut String,
    limit: usize,
    dropped: usize,
    names: &'a mut Vec<Segment>,
}

impl<'a> FieldVisitor<'a> {
    pub(crate) fn new(
        out: &'a mut Vec<u8>,
        message: Option<&'a mut Vec<u8>>,
        scratch: &'a mut String,
        limit: usize,
        names: &'a mut Vec<Segment>,
    ) -> Self {
        FieldVisitor { out, message, scratch, limit, dropped: 0, names }
    }

    /// How many fields were left out for lack of room.
    pub(crate) fn dropped(&self) -> usize {
        self.dropped
    }

    /// Writes the value of `field` with `write`: into the message buffer,
    /// or as `,"name":value`, taken back out if it does not fit.
    fn put(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        if field.name() == "message"
            && let Some(message) = self.message.as_deref_mut()
        {
            message.clear();
            return write(message);
        }
        let name = field.name();
        if is_reserved(name) || self.names.iter().any(|s| s.name == name) {
            return;
        }
        if name.len() > MAX_KEY_BYTES {
            self.dropped += 1;
            return;
        }
        let start = self.out.len();
        self.out.push(b',');
        push_json_str(self.out, name);
        self.out.push(b':');
        write(self.out);
        if self.out.len() > self.limit {
            self.out.truncate(start);
            self.dropped += 1;
        } else {
            self.names.push(Segment { name, start, end: self.out.len() });
        }
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, |out| push_bounded_str(out, value, MAX_VALUE_BYTES));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, |out| out.extend_from_slice(if value { b"true" } else { b"false" }));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, |out| {
            let _ = serde_json::to_writer(out, &value);
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, |out| {
            let _ = serde_json::to_writer(out, &value);
        });
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, |out| {
            let _ = serde_json::to_writer(out, &value);
        });
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, |out| {
            let _ = serde_json::to_writer(out, &value);
        });
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // Non-finite numbers have no JSON form; serde_json writes null.
        self.put(field, |out| {
            let _ = serde_json::to_writer(out, &value);
        });
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.scratch.clear();
        let _ = write!(self.scratch, "{value}");
        let mut source = value.source();
        while let Some(err) = source {
            let _ = write!(self.scratch, ": {err}");
            source = err.source();
        }
        let text = std::mem::take(self.scratch);
        self.put(field, |out| push_bounded_str(out, &text, MAX_VALUE_BYTES));
        *self.scratch = text;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.scratch.clear();
        let _ = write!(self.scratch, "{value:?}");
        let text = std::mem::take(self.scratch);
        self.put(field, |out| push_bounded_str(out, &text, MAX_VALUE_BYTES));
        *self.scratch = text;
    }
}
