//! halo's modules depend one way: each top-level module of `halo/src` sits
//! on a layer (the table below, also in CONTRIBUTING.md) and imports only
//! from its own layer or below. This test counts the imports between
//! top-level modules, one per pair: every `crate::<module>` a file names,
//! and every name of a `use crate::{...}` group (a root re-export such as
//! `Ctx` counts for the module it comes from), with comments and
//! `#[cfg(test)] mod tests` left out. An import running up a layer fails
//! the test unless it is one of the accepted exceptions below.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Lowest first.
const LAYERS: &[&[&str]] = &[
    &["platform", "future", "lock", "json_bytes", "base64", "digest"],
    &["error"],
    &["event", "correlation", "context"],
    &["log", "trace", "metrics", "timeout"],
    &["runtime"],
    &["retry", "durable", "params", "http", "cache"],
    &["idempotency", "saga", "breaker", "batch", "feature_flags"],
    &["fanout", "projection", "strangler", "durable_execution"],
    &["macro_support", "test_support", "lib"],
];

/// Upward imports accepted, each for a reason:
/// - `platform -> trace`: the container's AWS SDK configuration adds the
///   tracing interceptor when tracing is on, so every SDK client is traced;
/// - `correlation -> trace`: the headers carried to the next service
///   include the trace context (`traceparent`, X-Ray) beside the
///   correlation id.
const ACCEPTED_UPWARD: &[&str] = &["correlation -> trace", "platform -> trace"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`lib` for `lib.rs`).
fn module_of(file: &Path) -> String {
    let relative = file.strip_prefix(src()).expect("a file under src");
    let first = relative.components().next().expect("a path").as_os_str().to_string_lossy().into_owned();
    first.strip_suffix(".rs").map(str::to_owned).unwrap_or(first)
}

/// The code of a file without comments and without its unit tests.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    text.lines().filter(|line| !line.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

fn identifier_at(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
    &text[..end]
}

/// Every name the code reaches through `crate::`.
fn crate_names(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The top-level names of a `crate::{a, b::c, D}` group.
            let mut depth = 0;
            let mut start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start = true,
                    c if start && !c.is_whitespace() => {
                        names.insert(identifier_at(&group[i..]).to_owned());
                        start = false;
                    }
                    _ => {}
                }
            }
        } else {
            names.insert(identifier_at(rest).to_owned());
        }
    }
    names
}

/// The root re-exports of `lib.rs`: name -> the module it comes from.
fn root_names() -> BTreeMap<String, String> {
    let lib = std::fs::read_to_string(src().join("lib.rs")).expect("lib.rs");
    let mut names = BTreeMap::new();
    for statement in code(&lib).split(';') {
        let Some(path) = statement.trim().strip_prefix("pub use ") else { continue };
        let module = identifier_at(path).to_owned();
        let tail = path.rsplit("::").next().unwrap_or_default();
        let listed: Vec<&str> = match tail.trim().strip_prefix('{') {
            Some(group) => group.trim_end_matches('}').split(',').map(str::trim).collect(),
            None => vec![tail.trim()],
        };
        for name in listed.into_iter().filter(|n| !n.is_empty()) {
            names.insert(name.to_owned(), module.clone());
        }
    }
    names
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every import between two top-level modules, as `from -> to`.
fn imports() -> BTreeSet<(String, String)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let roots = root_names();
    let mut pairs = BTreeSet::new();
    for file in files.iter().filter(|f| f.file_name().is_some_and(|n| n != "tests.rs")) {
        let from = module_of(file);
        let text = std::fs::read_to_string(file).expect("a readable source file");
        for name in crate_names(&code(&text)) {
            let to = roots.get(&name).cloned().unwrap_or(name);
            if to != from && layer_of(&to).is_some() {
                pairs.insert((from.clone(), to));
            }
        }
    }
    pairs
}

#[test]
fn every_module_has_a_layer() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let unplaced: BTreeSet<String> = files.iter().map(|f| module_of(f)).filter(|m| layer_of(m).is_none()).collect();
    assert!(unplaced.is_empty(), "place these modules in LAYERS (and CONTRIBUTING.md): {unplaced:?}");
}

#[test]
fn imports_run_down_the_layers() {
    let pairs = imports();
    assert!(pairs.len() > 50, "the walk found the imports between modules ({} pairs)", pairs.len());
    let upward: Vec<String> = pairs
        .iter()
        .filter(|(from, to)| layer_of(from) < layer_of(to))
        .map(|(from, to)| format!("{from} -> {to}"))
        .collect();
    let unexpected: Vec<&String> = upward.iter().filter(|u| !ACCEPTED_UPWARD.contains(&u.as_str())).collect();
    assert!(unexpected.is_empty(), "imports running up a layer: {unexpected:?}");
    let gone: Vec<&&str> = ACCEPTED_UPWARD.iter().filter(|a| !upward.iter().any(|u| u == *a)).collect();
    assert!(gone.is_empty(), "no longer imported, remove from ACCEPTED_UPWARD: {gone:?}");
}

#[test]
fn the_walk_reads_groups_and_root_names() {
    let names =
        crate_names("use crate::{Ctx, error::Error, durable::{StoreError, Table}};\nlet x = crate::log::flush();");
    assert_eq!(names, BTreeSet::from(["Ctx", "error", "durable", "log"].map(String::from)));
    assert_eq!(root_names().get("Ctx").map(String::as_str), Some("context"));
    assert_eq!(code("use a;\n// crate::saga\n#[cfg(test)]\nmod tests { crate::saga }"), "use a;");
}
