//! An in-memory log sink for tests.

use std::io;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// A [`MakeWriter`] that keeps every line in memory, for tests that assert
/// on log output.
///
/// ```
/// use std::io::Write;
/// use tracing_subscriber::fmt::MakeWriter;
///
/// let lines = halo::log::CapturedLines::default();
/// lines.make_writer().write_all(b"{\"a\":1}\n").unwrap();
/// assert_eq!(lines.json()[0]["a"], 1);
/// ```
#[derive(Clone, Debug, Default)]
pub struct CapturedLines {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl CapturedLines {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lock()).into_owned()
    }

    /// Every line written so far, parsed as JSON.
    ///
    /// # Panics
    ///
    /// When a line is not JSON: this is a test helper, and that is a failure.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}")))
            .collect()
    }

    /// Forgets everything written so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.bytes.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The writer handed out by [`CapturedLines`].
#[derive(Debug)]
pub struct CapturedWriter {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl io::Write for CapturedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for CapturedLines {
    type Writer = CapturedWriter;

    fn make_writer(&'a self) -> CapturedWriter {
        CapturedWriter { bytes: Arc::clone(&self.bytes) }
    }
}
