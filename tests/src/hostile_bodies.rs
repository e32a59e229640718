//! Hostile request bodies for an example's API: an unknown key, a value of
//! the wrong type in each field, a nested object where a value belongs,
//! broken JSON and text that is not JSON, each carrying a marker. An error
//! response must never carry the caller's text back (a reflected key or
//! value is how an API ends up serving a script): the check runs the
//! compiled binary locally (`<binary> invoke`, in-memory stores) on every
//! variant and looks for the markers in each error response.
//!
//! ```no_run
//! use std::path::Path;
//!
//! let checked = halo_test_support::hostile_bodies::assert_no_caller_text_in_errors(
//!     Path::new(env!("CARGO_MANIFEST_DIR")),
//!     Path::new("target/debug/todo-api"),
//!     "events/create-v2.json",
//! );
//! assert!(checked > 0);
//! ```

use std::path::Path;
use std::process::Command;

use serde_json::{Map, Value};

// The text every hostile variant carries: an error response holding it
// quoted the caller.
use crate::hostile::SENTINEL as MARKER;

/// The hostile variants of `event`'s `body` (JSON text): what each one
/// is, and the event carrying it.
pub fn variants(event: &Value) -> Vec<(String, Value)> {
    let body = event["body"].as_str().expect("the event has a text body");
    let object: Map<String, Value> = serde_json::from_str(body).expect("the event's body is a JSON object");
    let script = format!("<script>alert('{MARKER}')</script>");
    let image = format!("<img src=x onerror=alert('{MARKER}')>");
    let mut bodies: Vec<(String, String)> = Vec::new();
    let mut with_key = object.clone();
    with_key.insert(script.clone(), Value::from(1));
    bodies.push(("an unknown key".into(), Value::Object(with_key).to_string()));
    for field in object.keys() {
        let mut wrong_type = object.clone();
        let value = match &object[field] {
            Value::String(_) => Value::from(vec![Value::from(image.clone())]),
            _ => Value::from(image.clone()),
        };
        wrong_type.insert(field.clone(), value);
        bodies.push((format!("a value of the wrong type in `{field}`"), Value::Object(wrong_type).to_string()));
        let mut nested = object.clone();
        nested.insert(field.clone(), serde_json::json!({ script.clone(): image.clone() }));
        bodies.push((format!("an object with a hostile key in `{field}`"), Value::Object(nested).to_string()));
    }
    bodies.push(("broken JSON".into(), format!("{{\"{script}\": \"{image}")));
    bodies.push(("text that is not JSON".into(), format!("<html>{image}</html>")));
    bodies
        .into_iter()
        .map(|(what, body)| {
            let mut variant = event.clone();
            variant["body"] = Value::from(body);
            (what, variant)
        })
        .collect()
}

/// Runs `binary invoke` (from `dir`, with in-memory stores) on every
/// hostile variant of the event in the file `event` (relative to `dir`)
/// and asserts that no error response (a status of 400 or more, or a
/// failed invocation) carries the marker ([`crate::hostile::SENTINEL`]). Returns how many error
/// responses it checked.
pub fn assert_no_caller_text_in_errors(dir: &Path, binary: &Path, event: &str) -> usize {
    let text = std::fs::read_to_string(dir.join(event)).unwrap_or_else(|e| panic!("read {event}: {e}"));
    let event: Value = serde_json::from_str(&text).expect("the event is JSON");
    let variants = variants(&event);
    let scratch = std::env::temp_dir().join(crate::moto::unique_name("hostile"));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut files = Vec::new();
    for (i, (_, variant)) in variants.iter().enumerate() {
        let file = scratch.join(format!("variant-{i}.json"));
        std::fs::write(&file, variant.to_string()).unwrap();
        files.push(file);
    }
    let mut command = Command::new(binary);
    command.current_dir(dir).arg("invoke").args(&files);
    for variable in ["AWS_LAMBDA_RUNTIME_API", "HALO_STORES"] {
        command.env_remove(variable);
    }
    for (variable, _) in std::env::vars() {
        if variable.ends_with("_TABLE") || variable.ends_with("_QUEUE_URL") {
            command.env_remove(variable);
        }
    }
    let output = command.output().unwrap_or_else(|e| panic!("run {}: {e}", binary.display()));
    let _ = std::fs::remove_dir_all(&scratch);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let responses: Vec<&str> = stdout.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(
        responses.len(),
        variants.len(),
        "one answer per variant from {}: {stdout}\n{}",
        binary.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let mut errors = 0;
    for ((what, _), line) in variants.iter().zip(responses) {
        let response: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {line}"));
        let status = response["statusCode"].as_u64();
        let failed = response.get("errorType").is_some() || status.is_some_and(|s| s >= 400);
        if failed {
            errors += 1;
            assert!(!line.contains(MARKER), "{what}: the error response quotes the caller: {line}");
        }
    }
    errors
}
