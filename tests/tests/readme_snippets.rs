//! Every Rust snippet in README.md and in the examples' READMEs quotes code
//! that compiles (the guide's chapters, `halo/docs/*.md`, are compiled as
//! doc tests instead): each one is found, line by line, in a source file of the
//! repository that the test command builds (the examples, halo's own tests,
//! and the new-user crate in `tests/new-user`, which is built outside the
//! workspace the way a user builds it).
//!
//! How a snippet is matched against a source file (whitespace runs count as
//! one space, leading and trailing whitespace is ignored):
//!
//! - consecutive snippet lines match consecutive non-blank source lines;
//! - a blank line in a snippet, or a line that is only `...`, stands for
//!   omitted code: what follows may come any number of lines later;
//! - `...` inside a line matches any text;
//! - a line ending in `{ ... }` (a body left out, optionally followed by a
//!   `// comment`) matches a source line ending in `{`, and its body is
//!   skipped.
//!
//! The new-user crate must also depend only on what the README's install
//! section lists.

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the test crate lives in the repository").to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The Rust code blocks of a Markdown file: (line number of the fence, lines).
fn rust_snippets(markdown: &str) -> Vec<(usize, Vec<String>)> {
    let mut snippets = Vec::new();
    let mut current: Option<(usize, Vec<String>)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let fence = line.trim_start();
        match current.as_mut() {
            None if fence.starts_with("```rust") => current = Some((index + 1, Vec::new())),
            None => {}
            Some(_) if fence.starts_with("```") => snippets.extend(current.take()),
            Some((_, lines)) => lines.push(line.to_owned()),
        }
    }
    snippets
}

fn normalize(line: &str) -> String {
    line.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One snippet line, ready to match a source line.
#[derive(Debug)]
enum Pattern {
    /// Omitted code: the next pattern may match any later line.
    Gap,
    /// The text of a line, `...` matching anything.
    Line(String),
    /// A line whose body is left out (`... { ... }`): matches a line ending
    /// in `{`; the next pattern may match any later line.
    Elided(String),
}

fn patterns(snippet: &[String]) -> Vec<Pattern> {
    snippet
        .iter()
        .map(|line| {
            let line = normalize(line);
            if line.is_empty() || line == "..." {
                return Pattern::Gap;
            }
            let code = match line.find("{ ... }") {
                Some(at) if line[at + "{ ... }".len()..].trim_start().starts_with("//") => &line[..at + 7],
                _ => line.as_str(),
            };
            match code.strip_suffix("{ ... }") {
                Some(head) => Pattern::Elided(format!("{head}{{")),
                None => Pattern::Line(line),
            }
        })
        .collect()
}

/// Whether `text` matches `pattern`, where `...` in the pattern matches any text.
fn matches(pattern: &str, text: &str) -> bool {
    let pieces: Vec<&str> = pattern.split("...").collect();
    if pieces.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

/// Whether the patterns match `source` from line `at` on; `free` says the
/// first pattern may match any line from `at` on.
fn matches_from(patterns: &[Pattern], source: &[String], at: usize, free: bool) -> bool {
    let Some((pattern, rest)) = patterns.split_first() else { return true };
    let text = match pattern {
        Pattern::Gap => return matches_from(rest, source, at, true),
        Pattern::Line(text) | Pattern::Elided(text) => text,
    };
    let candidates = if free { at..source.len() } else { at..(at + 1).min(source.len()) };
    candidates.into_iter().any(|line| {
        if !matches(text, &source[line]) {
            return false;
        }
        let elided = matches!(pattern, Pattern::Elided(_));
        matches_from(rest, source, line + 1, elided)
    })
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() {
            // Build output, and compile-fail cases (which do not compile).
            if name != "target" && name != "ui" && name != ".venv" && !name.to_string_lossy().starts_with('.') {
                source_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn markdown_files(root: &Path) -> Vec<PathBuf> {
    let mut files = vec![root.join("README.md")];
    let mut examples: Vec<PathBuf> = std::fs::read_dir(root.join("examples"))
        .expect("examples/ exists")
        .flatten()
        .map(|e| e.path().join("README.md"))
        .filter(|p| p.exists())
        .collect();
    examples.sort();
    files.extend(examples);
    files
}

#[test]
fn every_rust_snippet_of_the_readmes_quotes_compiled_code() {
    let root = repo_root();
    let mut files = Vec::new();
    for dir in ["halo", "halo-macros", "tests", "examples"] {
        source_files(&root.join(dir), &mut files);
    }
    let sources: Vec<(PathBuf, Vec<String>)> = files
        .into_iter()
        .map(|path| {
            let lines = read(&path).lines().map(normalize).filter(|l| !l.is_empty()).collect();
            (path, lines)
        })
        .collect();

    let mut checked = 0;
    let mut unquoted = Vec::new();
    for markdown in markdown_files(&root) {
        for (line, snippet) in rust_snippets(&read(&markdown)) {
            let patterns = patterns(&snippet);
            checked += 1;
            if !sources.iter().any(|(_, source)| matches_from(&patterns, source, 0, true)) {
                let shown = markdown.strip_prefix(&root).unwrap_or(&markdown).display().to_string();
                unquoted.push(format!("{shown}:{line}:\n{}", snippet.join("\n")));
            }
        }
    }
    assert!(checked >= 15, "only {checked} snippets found: is the fence parser broken?");
    assert!(
        unquoted.is_empty(),
        "{} README snippet(s) quote no compiled source file:\n\n{}",
        unquoted.len(),
        unquoted.join("\n\n")
    );
}

#[test]
fn the_matcher_rejects_a_changed_line_and_accepts_elisions() {
    let source: Vec<String> = ["fn a() {", "    let x = 1;", "    x", "}", "", "fn b(y: u8) -> u8 {", "    y + 1", "}"]
        .map(normalize)
        .to_vec();
    let source: Vec<String> = source.into_iter().filter(|l| !l.is_empty()).collect();
    let check = |snippet: &[&str]| {
        let lines: Vec<String> = snippet.iter().map(|s| s.to_string()).collect();
        matches_from(&patterns(&lines), &source, 0, true)
    };
    assert!(check(&["fn a() { ... }", "fn b(y: u8) -> u8 {", "y + 1"]));
    assert!(check(&["fn a() {", "let x = 1;", "", "y + 1"]));
    assert!(check(&["fn b(...) -> u8 { ... } // a comment"]));
    assert!(check(&["let x = ...;", "x"]));
    assert!(!check(&["fn a() {", "x"]), "consecutive lines must be consecutive");
    assert!(!check(&["let x = 2;"]));
    assert!(!check(&["fn b(y: u8) -> u8 {", "", "let x = 1;"]), "order counts");
}

/// The `[dependencies]` names of the first TOML block of the README's
/// install section, `## Install` (commented-out lines count: they are
/// optional ones).
fn install_section_dependencies(readme: &str) -> Vec<String> {
    let section = readme.split("## Install").nth(1).expect("README has an install section");
    let block = section.split("```toml").nth(1).and_then(|b| b.split("```").next()).expect("a TOML block");
    block
        .lines()
        .map(|l| l.trim().trim_start_matches('#').trim())
        .filter(|l| !l.starts_with('[') && l.contains('='))
        .map(|l| l.split('=').next().unwrap_or_default().trim().to_owned())
        .filter(|name| !name.contains(' '))
        .collect()
}

#[test]
fn the_new_user_crate_depends_only_on_what_the_readme_lists() {
    let root = repo_root();
    let listed = install_section_dependencies(&read(&root.join("README.md")));
    assert!(listed.iter().any(|d| d == "halo"), "the install section lists halo: {listed:?}");
    let manifest = read(&root.join("tests/new-user/Cargo.toml"));
    let dependencies = manifest.split("[dependencies]").nth(1).expect("tests/new-user has dependencies");
    let dependencies = dependencies.split("\n[").next().unwrap_or_default();
    let used: Vec<&str> = dependencies
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('=').next().map(str::trim))
        .collect();
    assert!(used.contains(&"halo"));
    for name in used {
        assert!(listed.iter().any(|d| d == name), "tests/new-user depends on `{name}`, which README.md does not list");
    }
    assert!(manifest.contains("[workspace]"), "the new-user crate is its own workspace, as a user's crate is");
}

/// The README's catalog names, for each pattern, the tests that prove it
/// as `` `path`: `test`, `test` ``: every named test is a function of the
/// named file, so a renamed or deleted test cannot leave the table behind.
#[test]
fn every_test_the_catalog_names_exists_in_its_file() {
    let readme = read(&repo_root().join("README.md"));
    let catalog = readme
        .split("## The serverless patterns catalog")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README.md has the catalog section");
    let mut named = 0;
    for row in catalog.lines().filter(|l| l.starts_with('|')) {
        let proof = row.trim_end_matches('|').rsplit('|').next().unwrap_or_default();
        for clause in proof.split(';') {
            let Some((file, tests)) = clause.split_once(':') else { continue };
            let source = read(&repo_root().join(file.trim().trim_matches('`')));
            for test in tests.split(',').map(|t| t.trim().trim_matches('`')).filter(|t| !t.is_empty()) {
                assert!(source.contains(&format!("fn {test}(")), "{file}: no test `{test}`");
                named += 1;
            }
        }
    }
    assert!(named >= 10, "the catalog names its tests: {named}");
}
