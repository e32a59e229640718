//! Rendering `tracing` field values as JSON.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

/// Appends `value` as a JSON string (quoted and escaped).
pub(crate) fn push_json_str(out: &mut Vec<u8>, value: &str) {
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, value);
}

/// Appends every field as `,"name":value`; the `message` field goes to its
/// own buffer (as a JSON string) when one is given.
pub(crate) struct FieldVisitor<'a> {
    out: &'a mut Vec<u8>,
    message: Option<&'a mut Vec<u8>>,
    scratch: &'a mut String,
}

impl<'a> FieldVisitor<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>, message: Option<&'a mut Vec<u8>>, scratch: &'a mut String) -> Self {
        FieldVisitor { out, message, scratch }
    }

    /// Where the value of `field` goes, with its key already written.
    fn target(&mut self, field: &Field) -> &mut Vec<u8> {
        if field.name() == "message"
            && let Some(message) = self.message.as_deref_mut()
        {
            message.clear();
            return message;
        }
        self.out.push(b',');
        push_json_str(self.out, field.name());
        self.out.push(b':');
        self.out
    }
}

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        push_json_str(self.target(field), value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.target(field).extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        let _ = serde_json::to_writer(self.target(field), &value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        let _ = serde_json::to_writer(self.target(field), &value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let _ = serde_json::to_writer(self.target(field), &value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let _ = serde_json::to_writer(self.target(field), &value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // Non-finite numbers have no JSON form; serde_json writes null.
        let _ = serde_json::to_writer(self.target(field), &value);
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
        push_json_str(self.target(field), &text);
        *self.scratch = text;
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.scratch.clear();
        let _ = write!(self.scratch, "{value:?}");
        let text = std::mem::take(self.scratch);
        push_json_str(self.target(field), &text);
        *self.scratch = text;
    }
}
