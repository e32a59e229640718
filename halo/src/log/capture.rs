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

    /// Every line written so far, parsed as JSON with
    /// [`CapturedLines::parse_line`].
    ///
    /// # Panics
    ///
    /// When a line is not one JSON object, or has a key twice: this is a
    /// test helper, and that is a failure.
    pub fn json(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| {
                CapturedLines::parse_line(line).unwrap_or_else(|e| panic!("not a well-formed line ({e}): {line}"))
            })
            .collect()
    }

    /// Parses one log line strictly: it must be one JSON object, and no
    /// object in it may have a key twice (which `serde_json` would
    /// silently accept, keeping the last value).
    ///
    /// ```
    /// use halo::log::CapturedLines;
    ///
    /// assert!(CapturedLines::parse_line(r#"{"a":1,"b":{"c":2}}"#).is_ok());
    /// assert!(CapturedLines::parse_line(r#"{"a":1,"a":2}"#).unwrap_err().contains("`a`"));
    /// assert!(CapturedLines::parse_line("[1]").is_err());
    /// ```
    pub fn parse_line(line: &str) -> Result<serde_json::Value, String> {
        match serde_json::from_str::<Strict>(line) {
            Ok(Strict(value @ serde_json::Value::Object(_))) => Ok(value),
            Ok(_) => Err("not a JSON object".to_owned()),
            Err(err) => Err(err.to_string()),
        }
    }

    /// Forgets everything written so far.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        crate::lock::lock(&self.bytes)
    }
}

/// A JSON value whose objects have no key twice.
struct Strict(serde_json::Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }
    fn visit_i64<E>(self, v: i64) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }
    fn visit_str<E>(self, v: &str) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }
    fn visit_unit<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<serde_json::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(items.into())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<serde_json::Value, A::Error> {
        let mut object = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Strict(value) = map.next_value()?;
            if object.insert(key.clone(), value).is_some() {
                return Err(serde::de::Error::custom(format!("the key `{key}` appears twice")));
            }
        }
        Ok(object.into())
    }
}

/// The writer handed out by [`CapturedLines`].
#[derive(Debug)]
pub struct CapturedWriter {
    bytes: Arc<Mutex<Vec<u8>>>,
}

impl io::Write for CapturedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        crate::lock::lock(&self.bytes).extend_from_slice(buf);
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
